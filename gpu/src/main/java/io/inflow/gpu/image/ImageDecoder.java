package io.inflow.gpu.image;

import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ImageEvent;
import io.inflow.schemas.RecordRejectedException;

import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

/**
 * Decodes PNG, JPEG, BMP and GIF (first frame) with the JDK's {@code javax.imageio} readers, safely:
 * <ol>
 *   <li>the encoded size is checked first ({@code IMAGE_TOO_LARGE});</li>
 *   <li>the format is recognised from the leading bytes, never from {@code content_type}; anything else
 *       (WebP, TIFF, HEIF, random bytes) is {@code IMAGE_UNSUPPORTED};</li>
 *   <li>width and height are read from the header ({@link ImageReader#getWidth}) and checked against the limits
 *       <em>before any pixel is decoded</em>, so a tiny file declaring 100000 x 100000 pixels (a decompression bomb)
 *       costs nothing ({@code IMAGE_TOO_LARGE});</li>
 *   <li>decoding errors, decoder warnings (a truncated JPEG only warns) and runtime exceptions from a reader are
 *       {@code IMAGE_CORRUPT}.</li>
 * </ol>
 * Every failure is a {@link RecordRejectedException} whose kind and message go to the dead-letter topic.
 * Images come back as 8-bit grayscale (1 channel) when the file is grayscale, else RGB (3 channels, alpha dropped);
 * 16-bit samples keep their high byte.
 *
 * <p>Thread-safe: each call uses its own reader. No disk cache is used (memory-cached streams only).
 *
 * <p>{@code
 * ImageDecoder decoder = new ImageDecoder(ImageDecoderConfig.builder().imageRoot(Path.of("/data/images")).build());
 * try {
 *     DecodedImage img = decoder.decode(imageEvent);   // inline base64 or a file: URI under the root
 * } catch (RecordRejectedException e) {
 *     // e.kind(): IMAGE_UNSUPPORTED, IMAGE_CORRUPT, IMAGE_TOO_LARGE, IMAGE_UNREADABLE or INVALID_FIELD
 * }
 * }
 */
public final class ImageDecoder {

    private final ImageDecoderConfig config;
    private final ImageRoot root;

    public ImageDecoder(ImageDecoderConfig config) {
        this.config = config;
        this.root = config.imageRoot() == null ? null : new ImageRoot(config.imageRoot());
    }

    public ImageDecoderConfig config() {
        return config;
    }

    /** Decodes the image an event carries inline ({@code image_base64}) or names ({@code image_uri}). */
    public DecodedImage decode(ImageEvent event) throws RecordRejectedException {
        if (event.imageBase64() != null) {
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(event.imageBase64());
            } catch (IllegalArgumentException e) {
                throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                        "image_base64 is not valid base64: " + e.getMessage(), e);
            }
            return decode(bytes);
        }
        return decodeUri(event.imageUri());
    }

    /**
     * Reads and decodes a {@code file:} URI confined to the configured image root.
     *
     * @throws RecordRejectedException {@code IMAGE_UNREADABLE} when no root is configured, the file is outside it,
     *         missing or unreadable; {@code INVALID_FIELD} for a URI that is not a local {@code file:} URI; and the
     *         kinds of {@link #decode(byte[])}
     */
    public DecodedImage decodeUri(String uri) throws RecordRejectedException {
        if (root == null) {
            throw new RecordRejectedException(ErrorKind.IMAGE_UNREADABLE,
                    "image_uri '" + uri + "' cannot be read: no image root is configured (file: URIs are disabled)");
        }
        return decode(root.read(uri, config.maxBytes()));
    }

    /** Decodes encoded image bytes. */
    public DecodedImage decode(byte[] bytes) throws RecordRejectedException {
        if (bytes == null || bytes.length == 0) {
            throw new RecordRejectedException(ErrorKind.IMAGE_CORRUPT, "image is empty (0 bytes)");
        }
        if (bytes.length > config.maxBytes()) {
            throw new RecordRejectedException(ErrorKind.IMAGE_TOO_LARGE,
                    "image is " + bytes.length + " bytes, limit is " + config.maxBytes());
        }
        Optional<ImageFormat> sniffed = ImageFormat.sniff(bytes);
        if (sniffed.isEmpty()) {
            throw new RecordRejectedException(ErrorKind.IMAGE_UNSUPPORTED, "image format " + ImageFormat.describeUnsupported(bytes)
                    + " (leading bytes " + hex(bytes, 12) + ") is not supported; supported: PNG, JPEG, BMP, GIF");
        }
        ImageFormat format = sniffed.get();
        if (format == ImageFormat.BMP) {
            // the JDK's BMP reader rejects a header whose size disagrees with the data before we could ask its
            // size: read the size ourselves so an oversized BMP is IMAGE_TOO_LARGE, not IMAGE_CORRUPT
            long[] size = bmpHeaderSize(bytes);
            if (size != null && size[0] <= Integer.MAX_VALUE && size[1] <= Integer.MAX_VALUE) {
                checkSize(format, (int) size[0], (int) size[1]);
            }
        }
        ImageReader reader = readerFor(format);
        List<String> warnings = new ArrayList<>();
        IIOReadWarningListener listener = (source, warning) -> warnings.add(warning);
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            reader.addIIOReadWarningListener(listener);
            int width;
            int height;
            try {
                width = reader.getWidth(0);
                height = reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                throw corrupt(format, "header", e);
            }
            checkSize(format, width, height);
            BufferedImage image;
            try {
                ImageReadParam param = reader.getDefaultReadParam();
                image = reader.read(0, param);
            } catch (IIOException e) {
                String msg = String.valueOf(e.getMessage());
                if (msg.contains("Unsupported Image Type") || msg.contains("Unsupported JPEG process")) {
                    throw new RecordRejectedException(ErrorKind.IMAGE_UNSUPPORTED,
                            format + " variant is not supported by the decoder: " + msg, e);
                }
                throw corrupt(format, "pixel data", e);
            } catch (IOException | RuntimeException e) {
                throw corrupt(format, "pixel data", e);
            }
            if (!warnings.isEmpty()) {
                throw new RecordRejectedException(ErrorKind.IMAGE_CORRUPT,
                        format + " image is corrupt or truncated: decoder warning '" + warnings.get(0) + "'");
            }
            if (image.getWidth() != width || image.getHeight() != height) {
                throw new RecordRejectedException(ErrorKind.IMAGE_CORRUPT, format + " header declares " + width
                        + " x " + height + " but " + image.getWidth() + " x " + image.getHeight() + " was decoded");
            }
            return toPixels(image, format);
        } catch (IOException e) {
            // closing a memory-backed stream; not expected
            throw corrupt(format, "stream", e);
        } finally {
            reader.dispose();
        }
    }

    private void checkSize(ImageFormat format, int width, int height) throws RecordRejectedException {
        long pixels = (long) width * height;
        if (width <= 0 || height <= 0) {
            throw new RecordRejectedException(ErrorKind.IMAGE_CORRUPT,
                    format + " header declares " + width + " x " + height + " pixels");
        }
        if (width > config.maxSide() || height > config.maxSide()) {
            throw new RecordRejectedException(ErrorKind.IMAGE_TOO_LARGE, format + " header declares " + width + " x "
                    + height + " pixels, a side is over the limit " + config.maxSide());
        }
        if (pixels > config.maxPixels()) {
            throw new RecordRejectedException(ErrorKind.IMAGE_TOO_LARGE, format + " header declares " + width + " x "
                    + height + " = " + pixels + " pixels, limit is " + config.maxPixels());
        }
    }

    /** Width and height from a BMP's DIB header (BITMAPCOREHEADER or BITMAPINFOHEADER and later), or null. */
    static long[] bmpHeaderSize(byte[] b) {
        if (b.length < 26) {
            return null;
        }
        java.nio.ByteBuffer le = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int dibSize = le.getInt(14);
        if (dibSize == 12) {
            return new long[] {le.getShort(18) & 0xFFFF, le.getShort(20) & 0xFFFF};
        }
        if (dibSize >= 40) {
            return new long[] {Math.abs((long) le.getInt(18)), Math.abs((long) le.getInt(22))};  // height < 0: top-down
        }
        return null;
    }

    private static ImageReader readerFor(ImageFormat format) throws RecordRejectedException {
        ImageReader fallback = null;
        for (Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(format.readerFormatName()); it.hasNext(); ) {
            ImageReader r = it.next();
            if (r.getClass().getName().startsWith("com.sun.imageio.plugins.")) {
                return r;                               // the JDK's own reader
            }
            if (fallback == null) {
                fallback = r;
            }
        }
        if (fallback == null) {
            throw new RecordRejectedException(ErrorKind.IMAGE_UNSUPPORTED, "no " + format + " reader in this JVM");
        }
        return fallback;
    }

    private static RecordRejectedException corrupt(ImageFormat format, String part, Exception e) {
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e.getCause() != null && e.getCause().getMessage() != null) {
            reason += " (" + e.getCause().getMessage() + ")";
        }
        return new RecordRejectedException(ErrorKind.IMAGE_CORRUPT,
                format + " image is corrupt or truncated: cannot read its " + part + ": " + reason, e);
    }

    /** 8-bit gray (1 channel) for single-band gray images, with or without alpha; else sRGB (3 channels). */
    static DecodedImage toPixels(BufferedImage image, ImageFormat format) {
        int w = image.getWidth();
        int h = image.getHeight();
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        boolean gray = cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && cm.getNumColorComponents() == 1
                && !(cm instanceof java.awt.image.IndexColorModel);
        if (gray) {
            int bits = cm.getComponentSize(0);
            int transfer = raster.getTransferType();
            byte[] px = new byte[w * h];
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int v = row[x];
                    if (transfer == DataBuffer.TYPE_USHORT || bits == 16) {
                        v >>>= 8;
                    } else if (bits < 8) {
                        v = v * 255 / ((1 << bits) - 1);      // 1/2/4-bit gray PNG
                    }
                    px[y * w + x] = (byte) v;
                }
            }
            return new DecodedImage(w, h, 1, px, format);
        }
        byte[] px = new byte[w * h * 3];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int argb = row[x];
                int o = (y * w + x) * 3;
                px[o] = (byte) (argb >>> 16);
                px[o + 1] = (byte) (argb >>> 8);
                px[o + 2] = (byte) argb;
            }
        }
        return new DecodedImage(w, h, 3, px, format);
    }

    private static String hex(byte[] bytes, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(n, bytes.length); i++) {
            sb.append(i == 0 ? "" : " ").append(String.format("%02X", bytes[i] & 0xFF));
        }
        return sb.toString();
    }
}
