package io.inflow.schemas;

import java.util.Locale;

/**
 * Why a record was rejected. The wire name (lower snake case) is what the dead-letter topic carries in
 * {@code error.kind} and what metrics label rejections with.
 *
 * <p>{@code
 * ErrorKind kind = ErrorKind.fromWireName("oversize_record"); // OVERSIZE_RECORD
 * String wire = ErrorKind.INVALID_UTF8.wireName();           // "invalid_utf8"
 * }
 */
public enum ErrorKind {
    /** The record (or one of its fields) is larger than the configured limit. */
    OVERSIZE_RECORD,
    /** The Kafka value is null, empty or only whitespace. */
    EMPTY_RECORD,
    /** The bytes are not well-formed UTF-8. */
    INVALID_UTF8,
    /** The bytes are not one JSON object (syntax error, duplicate key, array, trailing data). */
    MALFORMED_JSON,
    /** A required field is absent. */
    MISSING_FIELD,
    /** A field has the wrong JSON type or violates its rule (length, range, format, combination). */
    INVALID_FIELD,
    /** The {@code type} field names a record type this reader does not accept. */
    UNKNOWN_TYPE,
    /** The {@code version} field is not a major version this reader understands. */
    UNSUPPORTED_VERSION,
    /** The tokenizer threw on a valid record (set by the tokenize stage, not by this module). */
    TOKENIZE_FAILED,
    /**
     * Model computation failed on this record: its batch failed, and bisecting the batch isolated this record as one
     * that fails on its own (set by the compute stage, not by this module).
     */
    COMPUTE_FAILED,
    /** The model's output for this record holds NaN or an infinity (set by the compute stage). */
    NON_FINITE_OUTPUT,
    /** The record's output could not be serialised to its wire form (set by the output stage). */
    SERIALIZE_FAILED,
    /**
     * The record's output (or what it produced) is larger than the sink's maximum request size
     * ({@code max.request.size} of the Kafka producer) (set by the output stage).
     */
    OUTPUT_TOO_LARGE,
    /**
     * The image bytes are not in a supported format (PNG, JPEG, BMP, GIF), e.g. WebP, TIFF or random bytes
     * (set by the image decoding stage, not by this module).
     */
    IMAGE_UNSUPPORTED,
    /** The image is in a supported format but corrupt or truncated (set by the image decoding stage). */
    IMAGE_CORRUPT,
    /**
     * The image is over a decoding limit: encoded bytes, or width x height declared in its header (a decompression
     * bomb is rejected before any pixel is decoded). Set by the image decoding stage.
     */
    IMAGE_TOO_LARGE,
    /**
     * The file an {@code image_uri} names cannot be read: missing, not a regular file, unreadable, or outside the
     * configured image root (a {@code ..} escape or a symbolic link leaving it). Set by the image decoding stage.
     */
    IMAGE_UNREADABLE;

    private final String wireName = name().toLowerCase(Locale.ROOT);

    /** Lower snake case name used on the wire, e.g. {@code "oversize_record"}. */
    public String wireName() {
        return wireName;
    }

    /**
     * Parses a wire name.
     *
     * @throws IllegalArgumentException if the name is null or not a known wire name
     */
    public static ErrorKind fromWireName(String wireName) {
        if (wireName != null) {
            for (ErrorKind k : values()) {
                if (k.wireName.equals(wireName)) {
                    return k;
                }
            }
        }
        throw new IllegalArgumentException("unknown error kind '" + wireName + "', expected one of " + wireNames());
    }

    static String wireNames() {
        StringBuilder sb = new StringBuilder("[");
        for (ErrorKind k : values()) {
            sb.append(sb.length() > 1 ? ", " : "").append(k.wireName);
        }
        return sb.append(']').toString();
    }
}
