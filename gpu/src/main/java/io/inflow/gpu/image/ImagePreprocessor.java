package io.inflow.gpu.image;

import io.inflow.gpu.batch.ImageBatch;
import org.apache.arrow.memory.ArrowBuf;

/**
 * Turns a {@link DecodedImage} into a model input {@code float32 [channels, height, width]}, the naive CPU
 * reference (each step a readable loop; results are exact and reproducible run to run):
 * <ol>
 *   <li>colour: to 1 channel with PIL's "L" luma, {@code (r*19595 + g*38470 + b*7471 + 0x8000) >> 16}
 *       (ITU-R 601-2, exactly PIL's integers), or to 3 channels by replicating gray;</li>
 *   <li>resize with the configured {@link Interpolation} ({@link Resampler}): straight to the size, or the shorter
 *       side to {@code shortestEdge}; skipped when the size already matches (Fashion-MNIST's 28 x 28);</li>
 *   <li>centre crop ({@code top = rint((h - cropH) / 2)}, as torchvision);</li>
 *   <li>{@code (sample * rescale - mean[c]) / std[c]} in float32, written channel-major.</li>
 * </ol>
 * Stateless and thread-safe: one instance may be shared.
 *
 * <p>{@code
 * ImagePreprocessor pre = new ImagePreprocessor(ImagePreprocessConfig.fromModelConfig(configJson));
 * try (ImageBatch batch = new ImageBatch(alloc, 1, 28, 28, 64)) {
 *     pre.appendTo(batch, decoder.decode(bytes));     // writes straight into the Arrow buffer
 * }
 * }
 */
public final class ImagePreprocessor {

    private final ImagePreprocessConfig config;
    private final float[] mean;
    private final float[] std;

    public ImagePreprocessor(ImagePreprocessConfig config) {
        this.config = config;
        this.mean = config.mean();
        this.std = config.std();
    }

    public ImagePreprocessConfig config() {
        return config;
    }

    /** Floats per image: {@code channels * height * width}. */
    public int outputFloats() {
        return config.channels() * config.height() * config.width();
    }

    /** The preprocessed image as a new {@code float32 [channels, height, width]} array. */
    public float[] preprocess(DecodedImage image) {
        float[] hwc = resizedAndCropped(image);
        float[] out = new float[outputFloats()];
        int c = config.channels();
        int plane = config.height() * config.width();
        for (int p = 0; p < plane; p++) {
            for (int ch = 0; ch < c; ch++) {
                out[ch * plane + p] = normalise(hwc[p * c + ch], ch);
            }
        }
        return out;
    }

    /**
     * Preprocesses {@code image} straight into the next row of {@code batch} and commits it.
     *
     * @return the row index
     * @throws IllegalArgumentException when the batch's shape is not this preprocessor's output shape
     * @throws IllegalStateException when the batch is full
     */
    public int appendTo(ImageBatch batch, DecodedImage image) {
        if (batch.channels() != config.channels() || batch.height() != config.height()
                || batch.width() != config.width()) {
            throw new IllegalArgumentException("batch holds [" + batch.channels() + ", " + batch.height() + ", "
                    + batch.width() + "] images, this preprocessor makes [" + config.channels() + ", "
                    + config.height() + ", " + config.width() + "]");
        }
        long base = batch.nextRowOffset();
        float[] hwc = resizedAndCropped(image);
        ArrowBuf buf = batch.pixelValuesBuffer();
        int c = config.channels();
        int plane = config.height() * config.width();
        for (int ch = 0; ch < c; ch++) {
            long off = base + (long) ch * plane * Float.BYTES;
            for (int p = 0; p < plane; p++) {
                buf.setFloat(off + (long) p * Float.BYTES, normalise(hwc[p * c + ch], ch));
            }
        }
        return batch.commitRow(image.width(), image.height());
    }

    private float normalise(float sample, int channel) {
        return (sample * config.rescale() - mean[channel]) / std[channel];
    }

    /** Steps 1-3: samples 0..255 (float), interleaved {@code [height, width, channels]}. */
    float[] resizedAndCropped(DecodedImage image) {
        int c = config.channels();
        float[] samples = toChannels(image, c);
        ResizeGeometry g = ResizeGeometry.of(config, image.width(), image.height());
        float[] resized = Resampler.resize(samples, c, image.width(), image.height(), g.resizedWidth(),
                g.resizedHeight(), config.interpolation());
        return centreCrop(resized, c, g.resizedWidth(), g.resizedHeight(), config.width(), config.height());
    }

    static float[] centreCrop(float[] hwc, int c, int w, int h, int cropW, int cropH) {
        if (w == cropW && h == cropH) {
            return hwc;
        }
        if (cropW > w || cropH > h) {
            throw new IllegalArgumentException("cannot crop " + cropH + " x " + cropW + " from " + h + " x " + w);
        }
        int top = ResizeGeometry.centreOffset(h, cropH);
        int left = ResizeGeometry.centreOffset(w, cropW);
        float[] out = new float[cropW * cropH * c];
        for (int y = 0; y < cropH; y++) {
            System.arraycopy(hwc, ((top + y) * w + left) * c, out, y * cropW * c, cropW * c);
        }
        return out;
    }

    /** Interleaved samples with {@code channels} channels: PIL "L" luma for RGB to gray, replication for gray to RGB. */
    static float[] toChannels(DecodedImage image, int channels) {
        int n = image.width() * image.height();
        byte[] px = image.pixels();
        float[] out = new float[n * channels];
        if (image.channels() == channels) {
            for (int i = 0; i < out.length; i++) {
                out[i] = px[i] & 0xFF;
            }
        } else if (channels == 1) {
            for (int i = 0; i < n; i++) {
                out[i] = luma(px[3 * i] & 0xFF, px[3 * i + 1] & 0xFF, px[3 * i + 2] & 0xFF);
            }
        } else {
            for (int i = 0; i < n; i++) {
                float g = px[i] & 0xFF;
                out[3 * i] = g;
                out[3 * i + 1] = g;
                out[3 * i + 2] = g;
            }
        }
        return out;
    }

    /** PIL's {@code convert("L")}: ITU-R 601-2 luma in 16-bit fixed point, rounded. */
    public static int luma(int r, int g, int b) {
        return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }
}
