package io.inflow.gpu.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImageDecoder;
import io.inflow.gpu.image.ImageDecoderConfig;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.image.Interpolation;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.FashionMnist;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of the {@link Family#IMAGE} family ({@link ImageOps#preprocessImages}, {@link ImageOps#patchify}),
 * written once and run on every backend that supports it (a subclass per backend). Preprocessing is compared image by image with the CPU reference
 * {@link ImagePreprocessor#preprocess} on mixed batches (gray and RGB inputs to 1- and 3-channel models; upscaling,
 * downscaling by non-integer factors, a strong shrink with shortest-edge resize and centre crop, identity sizes,
 * width-1 and height-1 images, odd crop offsets; every interpolation) and on real Fashion-MNIST images that went
 * through PNG and {@link ImageDecoder}. The patch layout is compared with a plain loop on edge shapes.
 */
public abstract class ImageContractTest {
    /** Seed of every random image; printed in failure messages so a failure can be replayed. */
    static final long SEED = 20250622L;
    /** A CLIP-style 3-channel config's mean and std (the normalisation divides by std < 1: errors grow 4x). */
    static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    protected Backend backend;
    /** {@code backend.image()}: the family under test. */
    protected ImageOps image;
    protected BufferAllocator allocator;

    protected abstract Backend create();

    /** The reference backend runs {@link ImagePreprocessor} itself: bit-identical. */
    protected static final double CPU_SAMPLE_TOLERANCE = 0;

    /**
     * Largest difference allowed between a backend's preprocessed sample and the reference's, in 0..255 sample units
     * before rescaling and normalisation (the test scales it by {@code rescale / std[c]} per channel).
     */
    protected double sampleTolerance() {
        return CPU_SAMPLE_TOLERANCE;
    }

    /** The same for one image under one config (a backend exact on some paths only says so here); default as above. */
    protected double sampleTolerance(ImagePreprocessConfig config, DecodedImage image) {
        return sampleTolerance();
    }

    @BeforeEach
    void open() {
        allocator = new RootAllocator();
        backend = create();
        image = backend.image();
    }

    @Test
    void theBackendSaysItSupportsTheFamily() {
        assertThat(backend.supports(Family.IMAGE)).as(backend.name()).isTrue();
        backend.require(Family.IMAGE);
    }

    @AfterEach
    void close() {
        if (backend != null) {
            backend.close();     // fails if a test leaked a tensor
        }
        allocator.close();       // fails if a test leaked an Arrow buffer
    }

    // ---- preprocessImages -------------------------------------------------------------------------------

    @Test
    void everyInterpolationOnMixedGrayAndRgbBatches() {
        Random random = new Random(SEED);
        List<DecodedImage> images = List.of(
                noise(random, 28, 28, 1),          // downscale 28 -> 20 x 24 (non-integer factors)
                noise(random, 28, 28, 3),
                gradient(7, 5, 1),                 // upscale
                noise(random, 97, 61, 3),          // downscale by 4.85 x 2.54
                gradient(1, 40, 1),                // width 1
                noise(random, 40, 1, 3),           // height 1
                noise(random, 20, 24, 3),          // already the model size: no resize
                gradient(300, 11, 3),              // shrink one axis, enlarge the other
                noise(random, 1, 1, 1));           // a single pixel
        for (Interpolation interpolation : Interpolation.values()) {
            for (int channels : new int[] {1, 3}) {
                ImagePreprocessConfig cfg = ImagePreprocessConfig.builder().size(24, 20).channels(channels)
                        .interpolation(interpolation).mean(channels == 1 ? new float[] {0.286f} : CLIP_MEAN)
                        .std(channels == 1 ? new float[] {0.353f} : CLIP_STD).build();
                assertMatchesReference(cfg, images, interpolation + " to " + channels + " channel(s)");
            }
        }
    }

    @Test
    void shortestEdgeResizeAndCentreCropIncludingAStrongShrink() {
        Random random = new Random(SEED + 1);
        List<DecodedImage> images = List.of(
                noise(random, 1000, 700, 3),       // 1000 x 700 -> 365 x 256 -> crop 224 (antialiased shrink 2.7x)
                gradient(700, 1000, 1),            // portrait, gray
                noise(random, 301, 256, 3),        // left = rint(38.5) = 38 (half to even)
                noise(random, 299, 256, 1),        // left = rint(37.5) = 38
                gradient(256, 303, 3),             // top = rint(39.5) = 40
                noise(random, 256, 256, 3),        // no resize, crop only
                gradient(100, 50, 3));             // upscale 5.12x then crop
        for (Interpolation interpolation : Interpolation.values()) {
            ImagePreprocessConfig cfg = ImagePreprocessConfig.builder().size(224, 224).channels(3)
                    .resizeShortestEdge(256).interpolation(interpolation).mean(CLIP_MEAN).std(CLIP_STD).build();
            assertMatchesReference(cfg, images, interpolation + ", shortest edge 256, crop 224");
        }
        ImagePreprocessConfig gray = ImagePreprocessConfig.builder().size(15, 13).channels(1).resizeShortestEdge(17)
                .interpolation(Interpolation.BICUBIC).rescale(1f).build();     // raw 0..255 samples, odd crops
        assertMatchesReference(gray, images, "gray, shortest edge 17, crop 15 x 13");
    }

    @Test
    void aBatchOfOneLargeImage() {
        // a backend that splits work by image has one task here: the fast CPU backend splits the rows instead
        List<DecodedImage> one = List.of(noise(new Random(SEED + 4), 1000, 700, 3));
        for (Interpolation interpolation : Interpolation.values()) {
            ImagePreprocessConfig cfg = ImagePreprocessConfig.builder().size(224, 224).channels(3)
                    .resizeShortestEdge(256).interpolation(interpolation).mean(CLIP_MEAN).std(CLIP_STD).build();
            assertMatchesReference(cfg, one, interpolation + ", one 1000 x 700 image, shortest edge 256, crop 224");
        }
        ImagePreprocessConfig gray = ImagePreprocessConfig.builder().size(61, 67).channels(1)
                .interpolation(Interpolation.BILINEAR).build();
        assertMatchesReference(gray, one, "one 1000 x 700 RGB image to gray 67 x 61");
    }

    @Test
    void realFashionMnistImagesThroughPngAndTheDecoder() throws Exception {
        FashionMnist sample = FashionMnist.sample();
        ImageDecoder decoder = new ImageDecoder(ImageDecoderConfig.defaults());
        List<DecodedImage> images = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            DecodedImage raw = sample.image(i);
            BufferedImage img = new BufferedImage(raw.width(), raw.height(), BufferedImage.TYPE_BYTE_GRAY);
            img.getRaster().setDataElements(0, 0, raw.width(), raw.height(), raw.pixels());
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            assertThat(ImageIO.write(img, "png", png)).isTrue();
            DecodedImage decoded = decoder.decode(png.toByteArray());
            assertThat(decoded.pixels()).as("PNG round trip of sample image %d", i).isEqualTo(raw.pixels());
            images.add(decoded);
        }
        ImagePreprocessConfig model = ImagePreprocessConfig.fromModelConfig(getClass().getClassLoader()
                .getResourceAsStream("models/vit-fashion-mnist/config.json"));
        assertMatchesReference(model, images, "the Fashion-MNIST ViT's config (28 x 28, identity size)");
        ImagePreprocessConfig rgb = ImagePreprocessConfig.builder().size(64, 64).channels(3)
                .interpolation(Interpolation.BICUBIC).mean(CLIP_MEAN).std(CLIP_STD).build();
        assertMatchesReference(rgb, images, "gray 28 x 28 to RGB 64 x 64 bicubic");
    }

    @Test
    void inputsAlreadyInBackendMemoryGiveTheSameResult() {
        Random random = new Random(SEED + 2);
        ImagePreprocessConfig cfg = ImagePreprocessConfig.builder().size(16, 16).channels(3)
                .interpolation(Interpolation.BILINEAR).build();
        try (DecodedImageBatch batch = batch(List.of(noise(random, 33, 17, 3), gradient(5, 9, 1)));
             Tensor hostOut = backend.allocate(DType.FLOAT32, 2, 3, 16, 16);
             Tensor deviceOut = backend.allocate(DType.FLOAT32, 2, 3, 16, 16)) {
            Tensor[] host = wrap(batch);
            image.preprocessImages(host[0], host[1], host[2], host[3], host[4], cfg, hostOut);
            List<Tensor> copies = new ArrayList<>();
            try {
                for (Tensor t : host) {
                    Tensor copy = backend.allocate(t.dtype(), t.shape());
                    copies.add(copy);
                    backend.copy(t, copy);
                }
                image.preprocessImages(copies.get(0), copies.get(1), copies.get(2), copies.get(3), copies.get(4),
                        cfg, deviceOut);
            } finally {
                copies.forEach(Tensor::close);
            }
            assertThat(backend.download(deviceOut)).containsExactly(backend.download(hostOut));
        }
    }

    @Test
    void emptyBatchWritesNothing() {
        ImagePreprocessConfig cfg = ImagePreprocessConfig.builder().size(4, 4).channels(1).build();
        try (DecodedImageBatch batch = new DecodedImageBatch(allocator, 1);
             Tensor out = backend.allocate(DType.FLOAT32, 0, 1, 4, 4)) {
            Tensor[] t = wrap(batch);
            image.preprocessImages(t[0], t[1], t[2], t[3], t[4], cfg, out);
            assertThat(out.elementCount()).isZero();
        }
    }

    @Test
    void inconsistentImagesFailNamingTheImage() {
        ImagePreprocessConfig cfg = ImagePreprocessConfig.builder().size(4, 4).channels(1).build();
        try (DecodedImageBatch batch = batch(List.of(gradient(3, 2, 1), gradient(2, 2, 3)));
             Tensor out = backend.allocate(DType.FLOAT32, 2, 1, 4, 4);
             Tensor wrongOut = backend.allocate(DType.FLOAT32, 2, 3, 4, 4)) {
            Tensor[] t = wrap(batch);
            assertThatThrownBy(() -> image.preprocessImages(t[0], t[1], t[2], t[3], t[4], cfg, wrongOut))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out expected")
                    .hasMessageContaining("[2, 1, 4, 4]");
            batch.widthsBuffer().setInt(4, 3);                    // image 1 claims 3 x 2 x 3 = 18 bytes, holds 12
            assertThatThrownBy(() -> image.preprocessImages(t[0], t[1], t[2], t[3], t[4], cfg, out))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("image 1 holds 12 bytes");
            batch.widthsBuffer().setInt(4, 2);
            batch.channelsBuffer().setInt(0, 2);                  // image 0: 2 channels
            assertThatThrownBy(() -> image.preprocessImages(t[0], t[1], t[2], t[3], t[4], cfg, out))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("image 0 has 2 channels");
            batch.channelsBuffer().setInt(0, 1);
            Tensor shortPixels = t[0].view(0, 10);                // rows need 6 + 12 = 18 bytes
            assertThatThrownBy(() -> image.preprocessImages(shortPixels, t[1], t[2], t[3], t[4], cfg, out))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("offsets[2] = 18 exceeds the 10");
            assertThatThrownBy(() -> image.preprocessImages(t[2], t[1], t[2], t[3], t[4], cfg, out))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pixels must be UINT8");
        }
    }

    // ---- patchify ---------------------------------------------------------------------------------------

    @Test
    void patchifyMatchesAPlainLoopOnEdgeShapes() {
        Random random = new Random(SEED + 3);
        for (int c : new int[] {1, 3}) {
            for (int grid : new int[] {1, 7}) {
                for (int p = 1; p <= 16; p++) {
                    int b = 1 + random.nextInt(3);
                    int s = grid * p;
                    float[] pixels = new float[b * c * s * s];
                    for (int i = 0; i < pixels.length; i++) {
                        pixels[i] = random.nextFloat() * 2 - 1;
                    }
                    int rows = b * grid * grid;
                    int k = c * p * p;
                    try (Tensor x = backend.upload(pixels, b, c, s, s);
                         Tensor out = backend.allocate(DType.FLOAT32, rows, k)) {
                        image.patchify(x, p, out);
                        assertThat(backend.download(out))
                                .as("patchify b=%d c=%d grid=%d p=%d (seed %d)", b, c, grid, p, SEED + 3)
                                .containsExactly(plainPatchify(pixels, b, c, s, p));
                    }
                }
            }
        }
    }

    @Test
    void patchifyChecksItsShapes() {
        try (Tensor x = backend.upload(new float[2 * 3 * 6 * 6], 2, 3, 6, 6);
             Tensor out = backend.allocate(DType.FLOAT32, 2 * 4, 3 * 9);
             Tensor wrong = backend.allocate(DType.FLOAT32, 8, 26)) {
            assertThatThrownBy(() -> image.patchify(x, 4, out)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("patch 4 does not divide the image size 6");
            assertThatThrownBy(() -> image.patchify(x, 3, wrong)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("out expected shape [8, 27]");
            image.patchify(x, 3, out);
        }
    }

    /** out[(i * grid + gy) * grid + gx, (ch * p + ky) * p + kx] = pixels[i, ch, gy * p + ky, gx * p + kx]. */
    static float[] plainPatchify(float[] pixels, int b, int c, int s, int p) {
        int grid = s / p;
        int k = c * p * p;
        float[] out = new float[b * grid * grid * k];
        for (int i = 0; i < b; i++) {
            for (int gy = 0; gy < grid; gy++) {
                for (int gx = 0; gx < grid; gx++) {
                    for (int ch = 0; ch < c; ch++) {
                        for (int ky = 0; ky < p; ky++) {
                            for (int kx = 0; kx < p; kx++) {
                                int row = (i * grid + gy) * grid + gx;
                                out[row * k + (ch * p + ky) * p + kx] =
                                        pixels[((i * c + ch) * s + gy * p + ky) * s + gx * p + kx];
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    private void assertMatchesReference(ImagePreprocessConfig cfg, List<DecodedImage> images, String what) {
        ImagePreprocessor reference = new ImagePreprocessor(cfg);
        int n = reference.outputFloats();
        int c = cfg.channels();
        int plane = cfg.height() * cfg.width();
        try (DecodedImageBatch batch = batch(images);
             Tensor out = backend.allocate(DType.FLOAT32, images.size(), c, cfg.height(), cfg.width())) {
            Tensor[] t = wrap(batch);
            image.preprocessImages(t[0], t[1], t[2], t[3], t[4], cfg, out);
            float[] actual = backend.download(out);
            for (int i = 0; i < images.size(); i++) {
                DecodedImage img = images.get(i);
                float[] expected = reference.preprocess(img);
                for (int j = 0; j < n; j++) {
                    int ch = j / plane;
                    double tol = sampleTolerance(cfg, img) * cfg.rescale() / cfg.std()[ch];
                    float got = actual[i * n + j];
                    if (!(Math.abs(got - expected[j]) <= tol)) {
                        throw new AssertionError(String.format("%s on %s: image %d (%d x %d x %d) element %d"
                                        + " [c=%d, y=%d, x=%d]: %s, reference %s (tolerance %.3g, seed %d)", what,
                                backend.name(), i, img.width(), img.height(), img.channels(), j, ch,
                                (j % plane) / cfg.width(), j % cfg.width(), got, expected[j], tol, SEED));
                    }
                }
            }
        }
    }

    private DecodedImageBatch batch(List<DecodedImage> images) {
        DecodedImageBatch batch = new DecodedImageBatch(allocator, Math.max(1, images.size()));
        images.forEach(batch::append);
        return batch;
    }

    /** {pixels, offsets, widths, heights, channels}: host views of the batch's Arrow buffers. */
    private static Tensor[] wrap(DecodedImageBatch batch) {
        int b = batch.rowCount();
        return new Tensor[] {
                Tensor.wrap(batch.pixelsBuffer(), DType.UINT8, (int) batch.pixelBytes()),
                Tensor.wrap(batch.offsetsBuffer(), DType.INT32, b + 1),
                Tensor.wrap(batch.widthsBuffer(), DType.INT32, b),
                Tensor.wrap(batch.heightsBuffer(), DType.INT32, b),
                Tensor.wrap(batch.channelsBuffer(), DType.INT32, b)};
    }

    static DecodedImage noise(Random random, int w, int h, int c) {
        byte[] px = new byte[w * h * c];
        random.nextBytes(px);
        return new DecodedImage(w, h, c, px, null);
    }

    /** A smooth image with a bright diagonal edge (sample (x, y, ch) in 0..255), so filters see structure. */
    static DecodedImage gradient(int w, int h, int c) {
        byte[] px = new byte[w * h * c];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int ch = 0; ch < c; ch++) {
                    int v = (x * 255 / Math.max(1, w - 1) + y * 97 / Math.max(1, h - 1) + ch * 40) % 256;
                    px[(y * w + x) * c + ch] = (byte) (Math.abs(x * h - y * w) < Math.max(w, h) ? 255 : v);
                }
            }
        }
        return new DecodedImage(w, h, c, px, null);
    }
}
