package io.inflow.gpu.image;

import io.inflow.gpu.batch.ImageBatch;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ImagePreprocessorTest {

    private static final float MEAN = 0.2860f;
    private static final float STD = 0.3530f;
    private BufferAllocator allocator;

    @BeforeEach
    void setUp() {
        allocator = new RootAllocator();
    }

    @AfterEach
    void tearDown() {
        allocator.close();     // live buffers make this throw: the leak check
    }

    private static ImagePreprocessConfig fashion() {
        return ImagePreprocessConfig.builder().size(28, 28).channels(1).mean(MEAN).std(STD).build();
    }

    private static DecodedImage gray(int w, int h, int... samples) {
        byte[] px = new byte[samples.length];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) samples[i];
        }
        return new DecodedImage(w, h, 1, px, ImageFormat.PNG);
    }

    private static DecodedImage rgb(int w, int h, int... samples) {
        byte[] px = new byte[samples.length];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) samples[i];
        }
        return new DecodedImage(w, h, 3, px, ImageFormat.PNG);
    }

    @Test
    void nativeSizeGrayIsOnlyNormalised() {
        int[] s = new int[28 * 28];
        for (int i = 0; i < s.length; i++) {
            s[i] = (i * 31) % 256;
        }
        float[] out = new ImagePreprocessor(fashion()).preprocess(gray(28, 28, s));
        assertThat(out).hasSize(784);
        for (int i = 0; i < s.length; i++) {
            // the formula the training script uses, in float32: (x * (1/255) - mean) / std
            float expected = (s[i] * (1f / 255f) - MEAN) / STD;
            assertThat(out[i]).as("pixel %d", i).isEqualTo(expected);
        }
        assertThat(out[0]).isCloseTo(-0.8102f, within(1e-4f));            // 0 -> -mean/std
        assertThat(out[0] + 0).isEqualTo((0f - MEAN) / STD);
    }

    @Test
    void rgbToGrayUsesPilLuma() {
        // PIL "L": red 76, green 150, blue 29, white 255 (hand-computed from 19595, 38470, 7471 / 65536)
        assertThat(ImagePreprocessor.luma(255, 0, 0)).isEqualTo(76);
        assertThat(ImagePreprocessor.luma(0, 255, 0)).isEqualTo(150);
        assertThat(ImagePreprocessor.luma(0, 0, 255)).isEqualTo(29);
        assertThat(ImagePreprocessor.luma(255, 255, 255)).isEqualTo(255);
        ImagePreprocessConfig cfg = ImagePreprocessConfig.builder().size(1, 2).channels(1).rescale(1f).build();
        float[] out = new ImagePreprocessor(cfg).preprocess(rgb(2, 1, 255, 0, 0, 10, 20, 30));
        // (10*19595 + 20*38470 + 30*7471 + 32768) >> 16 = 18
        assertThat(out).containsExactly(76f, 18f);
    }

    @Test
    void grayToRgbReplicatesWithPerChannelMeanAndStd() {
        ImagePreprocessConfig cfg = ImagePreprocessConfig.builder().size(1, 2).channels(3)
                .mean(0.5f, 0.25f, 0f).std(0.5f, 0.25f, 2f).build();
        float[] out = new ImagePreprocessor(cfg).preprocess(gray(2, 1, 0, 255));
        // CHW: channel 0 = [(0 - .5)/.5, (1 - .5)/.5], channel 1 = [-1, 3], channel 2 = [0, .5]
        assertThat(out).containsExactly(new float[] {-1f, 1f, -1f, 3f, 0f, 0.5f}, within(1e-6f));
    }

    @Test
    void rgbIsWrittenChannelMajor() {
        ImagePreprocessConfig cfg = ImagePreprocessConfig.builder().size(1, 2).channels(3).rescale(1f).build();
        float[] out = new ImagePreprocessor(cfg).preprocess(rgb(2, 1, 1, 2, 3, 4, 5, 6));
        assertThat(out).containsExactly(1, 4, 2, 5, 3, 6);
    }

    @Test
    void resizeThenNormalise() {
        // 2 x 1 gray [0, 100] -> 4 x 1 bilinear [0, 25, 75, 100], nearest [0, 0, 100, 100]
        ImagePreprocessConfig bilinear = ImagePreprocessConfig.builder().size(1, 4).channels(1).rescale(1f).build();
        assertThat(new ImagePreprocessor(bilinear).preprocess(gray(2, 1, 0, 100)))
                .containsExactly(new float[] {0, 25, 75, 100}, within(1e-4f));
        ImagePreprocessConfig nearest = ImagePreprocessConfig.builder().size(1, 4).channels(1).rescale(1f)
                .interpolation(Interpolation.NEAREST).build();
        assertThat(new ImagePreprocessor(nearest).preprocess(gray(2, 1, 0, 100))).containsExactly(0, 0, 100, 100);
    }

    @Test
    void shortestEdgeResizeThenCentreCrop() {
        // 5 x 2 gray, shortest edge 2 (no resize: already 2 high), crop 2 x 2: left = rint(1.5) = 2 (half to even)
        ImagePreprocessConfig cfg = ImagePreprocessConfig.builder().size(2, 2).channels(1).rescale(1f)
                .resizeShortestEdge(2).build();
        float[] out = new ImagePreprocessor(cfg).preprocess(gray(5, 2, 0, 1, 2, 3, 4, 10, 11, 12, 13, 14));
        assertThat(out).containsExactly(2, 3, 12, 13);
        // 4 x 2: left = 1
        float[] even = new ImagePreprocessor(cfg).preprocess(gray(4, 2, 0, 1, 2, 3, 10, 11, 12, 13));
        assertThat(even).containsExactly(1, 2, 11, 12);
        // a tall image: 2 x 6, shortest edge 4 -> 4 x 12 nearest, crop 2 x 2 from rows 5..6, cols 1..2
        ImagePreprocessConfig tall = ImagePreprocessConfig.builder().size(2, 2).channels(1).rescale(1f)
                .interpolation(Interpolation.NEAREST).resizeShortestEdge(4).build();
        float[] t = new ImagePreprocessor(tall).preprocess(gray(2, 6, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
        // nearest rows: floor((y + .5) * 6 / 12) -> y=5: 2, y=6: 3; cols floor((x + .5) * 2 / 4) -> x=1: 0, x=2: 1
        assertThat(t).containsExactly(4, 5, 6, 7);
    }

    @Test
    void appendsStraightIntoTheArrowBatch() throws Exception {
        ImagePreprocessor pre = new ImagePreprocessor(fashion());
        ImageDecoder decoder = new ImageDecoder(ImageDecoderConfig.defaults());
        DecodedImage a = decoder.decode(TestImages.encode(TestImages.grayGradient(28, 28), "png"));
        DecodedImage b = decoder.decode(TestImages.encode(TestImages.quadrants(56, 40), "png"));   // RGB, resized
        try (ImageBatch batch = new ImageBatch(allocator, 1, 28, 28, 2)) {
            assertThat(pre.appendTo(batch, a)).isEqualTo(0);
            assertThat(pre.appendTo(batch, b)).isEqualTo(1);
            float[] fa = pre.preprocess(a);
            float[] fb = pre.preprocess(b);
            for (int i = 0; i < 784; i++) {
                assertThat(batch.pixelValuesBuffer().getFloat(4L * i)).isEqualTo(fa[i]);
                assertThat(batch.pixelValuesBuffer().getFloat(4L * (784 + i))).isEqualTo(fb[i]);
            }
            assertThat(batch.originalWidth(1)).isEqualTo(56);
            assertThat(batch.originalHeight(1)).isEqualTo(40);
            assertThat(batch.pixel(0, 0, 1, 2)).isEqualTo((((2 * 7 + 13) % 256) * (1f / 255f) - MEAN) / STD);
            // top-left quadrant is red: luma 76 everywhere there after an area-weighted shrink
            assertThat(batch.pixel(1, 0, 3, 3)).isCloseTo((76 / 255f - MEAN) / STD, within(1e-5f));
            assertThatThrownBy(() -> pre.appendTo(batch, a)).hasMessageContaining("full (2 rows)");
        }
        try (ImageBatch rgbBatch = new ImageBatch(allocator, 3, 28, 28, 1)) {
            assertThatThrownBy(() -> pre.appendTo(rgbBatch, a)).hasMessageContaining("[3, 28, 28]")
                    .hasMessageContaining("[1, 28, 28]");
        }
    }

    @Test
    void readsTheModelConfig() throws Exception {
        String json = "{\"image_size\":28,\"num_channels\":1,\"preprocessing\":{\"interpolation\":\"bilinear\","
                + "\"rescale_factor\":0.00392156862745098,\"image_mean\":[0.286],\"image_std\":[0.353]}}";
        ImagePreprocessConfig cfg = ImagePreprocessConfig.fromModelConfig(
                new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
        assertThat(cfg.height()).isEqualTo(28);
        assertThat(cfg.width()).isEqualTo(28);
        assertThat(cfg.channels()).isEqualTo(1);
        assertThat(cfg.interpolation()).isEqualTo(Interpolation.BILINEAR);
        assertThat(cfg.rescale()).isEqualTo(1f / 255f);
        assertThat(cfg.mean()).containsExactly(0.286f);
        assertThat(cfg.std()).containsExactly(0.353f);
    }

    @Test
    void configChecksNameTheValue() {
        assertThatThrownBy(() -> ImagePreprocessConfig.builder().channels(2).build()).hasMessageContaining("got 2");
        assertThatThrownBy(() -> ImagePreprocessConfig.builder().channels(3).mean(0f).build())
                .hasMessageContaining("mean and std need 3 values");
        assertThatThrownBy(() -> ImagePreprocessConfig.builder().channels(1).std(0f).build())
                .hasMessageContaining("std=0.0");
        assertThatThrownBy(() -> ImagePreprocessConfig.builder().size(224, 224).resizeShortestEdge(200).build())
                .hasMessageContaining("at least the crop side 224 (got 200)");
        assertThatThrownBy(() -> Interpolation.parse("lanczos")).hasMessageContaining("'lanczos'");
    }
}
