package io.inflow.gpu.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * How {@link ImagePreprocessor} turns a decoded image into a model input {@code float32 [channels, height, width]}:
 * colour conversion, resize, centre crop, rescale and mean/std normalisation (the Hugging Face image-processor
 * steps, in that order).
 *
 * <p>{@code
 * ImagePreprocessConfig cfg = ImagePreprocessConfig.builder()
 *         .size(224, 224).channels(3)
 *         .resizeShortestEdge(256)                  // then centre-crop 224 x 224; default resizes to the size directly
 *         .interpolation(Interpolation.BICUBIC)
 *         .mean(0.485f, 0.456f, 0.406f).std(0.229f, 0.224f, 0.225f)
 *         .build();
 * ImagePreprocessConfig vit = ImagePreprocessConfig.fromModelConfig(in);   // a config.json with "preprocessing"
 * }
 *
 * @param height        model input height (after the crop)
 * @param width         model input width
 * @param channels      1 (grayscale: RGB images become PIL "L" luma) or 3 (RGB: gray images are replicated)
 * @param interpolation resampling filter
 * @param shortestEdge  0: resize straight to {@code height x width} (aspect ratio not kept: HF ViT);
 *                      otherwise resize so the shorter side is this long (the other {@code floor(long * edge / short)},
 *                      aspect kept) and centre-crop {@code height x width} (CLIP, torchvision {@code Resize(int)})
 * @param rescale       factor applied to 0..255 samples (1/255 gives 0..1)
 * @param mean          per channel, subtracted after rescaling
 * @param std           per channel, divided by after subtracting the mean
 */
public record ImagePreprocessConfig(int height, int width, int channels, Interpolation interpolation,
                                    int shortestEdge, float rescale, float[] mean, float[] std) {

    public ImagePreprocessConfig {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("size must be positive (" + height + " x " + width + ")");
        }
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3 (got " + channels + ")");
        }
        if (interpolation == null) {
            throw new IllegalArgumentException("interpolation must be set");
        }
        if (shortestEdge < 0 || (shortestEdge > 0 && shortestEdge < Math.max(height, width))) {
            throw new IllegalArgumentException("shortestEdge must be 0 or at least the crop side " + Math.max(height, width)
                    + " (got " + shortestEdge + ")");
        }
        if (!(rescale > 0f) || !Float.isFinite(rescale)) {
            throw new IllegalArgumentException("rescale must be finite and positive (got " + rescale + ")");
        }
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException("mean and std need " + channels + " values (got " + mean.length + " and "
                    + std.length + ")");
        }
        for (int c = 0; c < channels; c++) {
            if (!Float.isFinite(mean[c]) || !(std[c] > 0f) || !Float.isFinite(std[c])) {
                throw new IllegalArgumentException("channel " + c + ": mean must be finite and std finite and positive"
                        + " (mean=" + mean[c] + ", std=" + std[c] + ")");
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads the model's {@code config.json}: {@code image_size} (an int or {@code [h, w]}; or
     * {@code preprocessing.size.height/width}), {@code num_channels} (both from {@code vision_config} when there is
     * one, as in a CLIP config), and {@code preprocessing}: {@code interpolation}, {@code rescale_factor},
     * {@code image_mean}, {@code image_std}, optional {@code shortest_edge}.
     */
    public static ImagePreprocessConfig fromModelConfig(InputStream configJson) throws IOException {
        JsonNode cfg = new ObjectMapper().readTree(configJson);
        JsonNode pre = cfg.path("preprocessing");
        JsonNode vision = cfg.has("vision_config") ? cfg.path("vision_config") : cfg;   // CLIPConfig nests it
        JsonNode size = vision.path("image_size");
        int h = pre.path("size").path("height").asInt(size.isArray() ? size.path(0).asInt(0) : size.asInt(0));
        int w = pre.path("size").path("width").asInt(size.isArray() ? size.path(1).asInt(0) : size.asInt(0));
        int channels = vision.path("num_channels").asInt(3);
        Builder b = builder().size(h, w).channels(channels)
                .interpolation(Interpolation.parse(pre.path("interpolation").asText("bilinear")))
                .rescale((float) pre.path("rescale_factor").asDouble(1.0 / 255.0))
                .shortestEdge(pre.path("shortest_edge").asInt(0));
        b.mean(floats(pre.path("image_mean"), channels, 0f)).std(floats(pre.path("image_std"), channels, 1f));
        return b.build();
    }

    private static float[] floats(JsonNode array, int channels, float absent) {
        float[] out = new float[channels];
        Arrays.fill(out, absent);
        if (array.isArray()) {
            if (array.size() != channels) {
                throw new IllegalArgumentException("expected " + channels + " values, got " + array);
            }
            for (int i = 0; i < channels; i++) {
                out[i] = (float) array.get(i).asDouble();
            }
        }
        return out;
    }

    /** Fluent builder; defaults: 224 x 224, 3 channels, bilinear, no crop, rescale 1/255, mean 0, std 1. */
    public static final class Builder {
        private int height = 224;
        private int width = 224;
        private int channels = 3;
        private Interpolation interpolation = Interpolation.BILINEAR;
        private int shortestEdge;
        private float rescale = 1f / 255f;
        private float[] mean;
        private float[] std;

        private Builder() {
        }

        public Builder size(int height, int width) {
            this.height = height;
            this.width = width;
            return this;
        }

        public Builder channels(int channels) {
            this.channels = channels;
            return this;
        }

        public Builder interpolation(Interpolation interpolation) {
            this.interpolation = interpolation;
            return this;
        }

        /** Resize the shorter side to {@code edge} keeping the aspect ratio, then centre-crop to the size. */
        public Builder resizeShortestEdge(int edge) {
            return shortestEdge(edge);
        }

        Builder shortestEdge(int edge) {
            this.shortestEdge = edge;
            return this;
        }

        public Builder rescale(float rescale) {
            this.rescale = rescale;
            return this;
        }

        public Builder mean(float... mean) {
            this.mean = mean.clone();
            return this;
        }

        public Builder std(float... std) {
            this.std = std.clone();
            return this;
        }

        public ImagePreprocessConfig build() {
            float[] m = mean != null ? mean : new float[channels];
            float[] s = std;
            if (s == null) {
                s = new float[channels];
                Arrays.fill(s, 1f);
            }
            return new ImagePreprocessConfig(height, width, channels, interpolation, shortestEdge, rescale, m, s);
        }
    }
}
