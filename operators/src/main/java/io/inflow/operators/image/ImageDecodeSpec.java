package io.inflow.operators.image;

import io.inflow.gpu.image.ImageDecoderConfig;

import java.io.Serializable;
import java.nio.file.Path;

/**
 * The serializable form of an {@link ImageDecoderConfig} (which holds a {@link Path}), shipped with the job graph
 * and turned into the decoder's configuration on the task manager.
 *
 * <p>{@code new ImageDecodeSpec(8 << 20, 4096L * 4096, 16384, "/data/images")}
 *
 * @param imageRoot directory {@code file:} URIs must resolve under, or null to refuse every {@code file:} URI
 */
public record ImageDecodeSpec(long maxBytes, long maxPixels, int maxSide, String imageRoot) implements Serializable {

    public ImageDecodeSpec {
        toConfig(maxBytes, maxPixels, maxSide, imageRoot); // validates
    }

    /** The defaults of {@link ImageDecoderConfig} with the given root (null: inline images only). */
    public static ImageDecodeSpec defaults(String imageRoot) {
        return new ImageDecodeSpec(ImageDecoderConfig.DEFAULT_MAX_BYTES, ImageDecoderConfig.DEFAULT_MAX_PIXELS,
                ImageDecoderConfig.DEFAULT_MAX_SIDE, imageRoot);
    }

    public ImageDecoderConfig toConfig() {
        return toConfig(maxBytes, maxPixels, maxSide, imageRoot);
    }

    private static ImageDecoderConfig toConfig(long maxBytes, long maxPixels, int maxSide, String imageRoot) {
        return ImageDecoderConfig.builder().maxBytes(maxBytes).maxPixels(maxPixels).maxSide(maxSide)
                .imageRoot(imageRoot == null ? null : Path.of(imageRoot)).build();
    }
}
