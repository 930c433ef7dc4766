package io.inflow.gpu.image;

import java.util.Optional;

/**
 * The encoded image formats {@link ImageDecoder} accepts, recognised by their leading bytes (the record's
 * {@code content_type} is not trusted). Each maps to the JDK's built-in {@code javax.imageio} reader of that name;
 * other readers on the class path (the JDK's own TIFF reader, plug-ins) are never consulted.
 *
 * <p>{@code
 * Optional<ImageFormat> f = ImageFormat.sniff(bytes);         // PNG for "\u0089PNG\r\n\u001a\n..."
 * String what = ImageFormat.describeUnsupported(bytes);       // "WebP", "TIFF", ... or "unknown"
 * }
 */
public enum ImageFormat {
    PNG("png", new int[] {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}),
    JPEG("jpeg", new int[] {0xFF, 0xD8, 0xFF}),
    BMP("bmp", new int[] {'B', 'M'}),
    GIF("gif", new int[] {'G', 'I', 'F', '8'});

    private final String readerFormatName;
    private final int[] magic;

    ImageFormat(String readerFormatName, int[] magic) {
        this.readerFormatName = readerFormatName;
        this.magic = magic;
    }

    /** The {@code javax.imageio} format name used to look the reader up. */
    public String readerFormatName() {
        return readerFormatName;
    }

    /** The format whose signature starts {@code bytes}, if it is one of the supported ones. */
    public static Optional<ImageFormat> sniff(byte[] bytes) {
        for (ImageFormat f : values()) {
            if (startsWith(bytes, f.magic)) {
                if (f == GIF && !(startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a")))) {
                    continue;
                }
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /** A name for well-known formats that are not supported (for the rejection message), else {@code "unknown"}. */
    public static String describeUnsupported(byte[] bytes) {
        if (bytes.length >= 12 && startsWith(bytes, ascii("RIFF")) && bytes[8] == 'W' && bytes[9] == 'E'
                && bytes[10] == 'B' && bytes[11] == 'P') {
            return "WebP";
        }
        if (startsWith(bytes, new int[] {'I', 'I', 0x2A, 0x00}) || startsWith(bytes, new int[] {'M', 'M', 0x00, 0x2A})) {
            return "TIFF";
        }
        if (bytes.length >= 12 && bytes[4] == 'f' && bytes[5] == 't' && bytes[6] == 'y' && bytes[7] == 'p') {
            return "ISO-BMFF (HEIF/AVIF)";
        }
        if (startsWith(bytes, ascii("%PDF"))) {
            return "PDF";
        }
        if (startsWith(bytes, new int[] {0x00, 0x00, 0x01, 0x00})) {
            return "ICO";
        }
        if (startsWith(bytes, ascii("<svg")) || startsWith(bytes, ascii("<?xml"))) {
            return "SVG/XML";
        }
        return "unknown";
    }

    private static boolean startsWith(byte[] bytes, int[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((bytes[i] & 0xFF) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static int[] ascii(String s) {
        return s.chars().toArray();
    }
}
