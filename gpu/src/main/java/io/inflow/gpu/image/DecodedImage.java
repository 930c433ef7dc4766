package io.inflow.gpu.image;

/**
 * Decoded 8-bit pixels, interleaved row-major: {@code pixels[(y * width + x) * channels + c]}. {@code channels} is
 * 1 (grayscale) or 3 (RGB; alpha is dropped, as PIL's {@code convert("RGB")} does). {@code format} is the file
 * format the pixels were decoded from, or null for raw pixels (e.g. a data set's IDX file).
 *
 * <p>{@code
 * DecodedImage img = decoder.decode(bytes);
 * int red = img.sample(0, 0, 0);     // 0..255
 * }
 */
public record DecodedImage(int width, int height, int channels, byte[] pixels, ImageFormat format) {
    public DecodedImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive (" + width + " x " + height + ")");
        }
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3 (got " + channels + ")");
        }
        if (pixels.length != (long) width * height * channels) {
            throw new IllegalArgumentException("pixels has " + pixels.length + " bytes, expected " + width + " x "
                    + height + " x " + channels);
        }
    }

    /** The sample at column x, row y, channel c, as 0..255. */
    public int sample(int x, int y, int c) {
        return pixels[(y * width + x) * channels + c] & 0xFF;
    }
}
