package io.inflow.gpu.image;

import java.nio.file.Path;

/**
 * Limits and the file root of an {@link ImageDecoder}. Every limit is checked before the work it guards: bytes
 * before any parsing, width and height from the header before any pixel is decoded.
 *
 * <p>{@code
 * ImageDecoderConfig cfg = ImageDecoderConfig.builder()
 *         .maxBytes(8 << 20)            // encoded bytes (inline or file)
 *         .maxPixels(4096L * 4096)      // width x height from the header
 *         .maxSide(16384)               // either side
 *         .imageRoot(Path.of("/data/images"))   // file: URIs must resolve under it; null: file: URIs are rejected
 *         .build();
 * }
 *
 * @param maxBytes  largest encoded image, in bytes. Default 8 MiB, the schemas' {@code inflow.schemas.max-image-bytes}.
 * @param maxPixels largest width x height. A decoded image holds about 4 bytes per pixel on the heap while it is
 *                  converted, so the default 16,777,216 (4096 x 4096) bounds one decode to about 64 MiB; raise it
 *                  for camera photos (24 MP) together with the task heap.
 * @param maxSide   largest width or height, whatever the product (default 16384): guards against 1 x 10^7 strips.
 * @param imageRoot directory {@code file:} URIs must resolve under (after normalisation and symbolic links);
 *                  {@code null} rejects every {@code file:} URI.
 */
public record ImageDecoderConfig(long maxBytes, long maxPixels, int maxSide, Path imageRoot) {

    public static final long DEFAULT_MAX_BYTES = 8L << 20;
    public static final long DEFAULT_MAX_PIXELS = 4096L * 4096;
    public static final int DEFAULT_MAX_SIDE = 16384;

    public ImageDecoderConfig {
        if (maxBytes <= 0 || maxBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxBytes must be in 1.." + (Integer.MAX_VALUE - 8) + " (got " + maxBytes + ")");
        }
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive (got " + maxPixels + ")");
        }
        if (maxSide <= 0) {
            throw new IllegalArgumentException("maxSide must be positive (got " + maxSide + ")");
        }
        if (imageRoot != null) {
            imageRoot = imageRoot.toAbsolutePath().normalize();
        }
    }

    /** Defaults, no image root (inline images only). */
    public static ImageDecoderConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Fluent builder; {@link #build()} checks the values. */
    public static final class Builder {
        private long maxBytes = DEFAULT_MAX_BYTES;
        private long maxPixels = DEFAULT_MAX_PIXELS;
        private int maxSide = DEFAULT_MAX_SIDE;
        private Path imageRoot;

        private Builder() {
        }

        public Builder maxBytes(long maxBytes) {
            this.maxBytes = maxBytes;
            return this;
        }

        public Builder maxPixels(long maxPixels) {
            this.maxPixels = maxPixels;
            return this;
        }

        public Builder maxSide(int maxSide) {
            this.maxSide = maxSide;
            return this;
        }

        public Builder imageRoot(Path imageRoot) {
            this.imageRoot = imageRoot;
            return this;
        }

        public ImageDecoderConfig build() {
            return new ImageDecoderConfig(maxBytes, maxPixels, maxSide, imageRoot);
        }
    }
}
