package io.inflow.schemas;

import java.io.Serializable;
import java.util.Map;

/**
 * Size limits applied by {@link InputDecoder}. Each limit has a configuration key (used in rejection messages
 * and by {@link #fromMap(Map)}) and must be positive.
 *
 * <ul>
 *   <li>{@code maxRecordBytes} ({@value #KEY_MAX_RECORD_BYTES}): whole Kafka value, bytes. Default 1 MiB.
 *       Raising it costs memory per in-flight record.</li>
 *   <li>{@code maxTextBytes} ({@value #KEY_MAX_TEXT_BYTES}): UTF-8 length of {@code text}. Default 64 KiB;
 *       the tokenizer truncates long texts anyway, larger limits only cost tokenizer time.</li>
 *   <li>{@code maxIdLength} ({@value #KEY_MAX_ID_LENGTH}): code points in {@code id} / {@code doc_id}. Default 128.</li>
 *   <li>{@code maxAttributes} ({@value #KEY_MAX_ATTRIBUTES}): entries in {@code attributes}. Default 64.</li>
 *   <li>{@code maxImageBytes} ({@value #KEY_MAX_IMAGE_BYTES}): decoded length of {@code image_base64}.
 *       Default 8 MiB; an inline image also has to fit in {@code maxRecordBytes}.</li>
 * </ul>
 *
 * <p>{@code
 * Limits limits = new Limits(2 << 20, 16 << 10, 64, 16, 1 << 20);
 * InputDecoder decoder = new InputDecoder(limits);
 * }
 */
public record Limits(int maxRecordBytes, int maxTextBytes, int maxIdLength, int maxAttributes, int maxImageBytes)
        implements Serializable {

    public static final String KEY_MAX_RECORD_BYTES = "inflow.schemas.max-record-bytes";
    public static final String KEY_MAX_TEXT_BYTES = "inflow.schemas.max-text-bytes";
    public static final String KEY_MAX_ID_LENGTH = "inflow.schemas.max-id-length";
    public static final String KEY_MAX_ATTRIBUTES = "inflow.schemas.max-attributes";
    public static final String KEY_MAX_IMAGE_BYTES = "inflow.schemas.max-image-bytes";

    private static final Limits DEFAULTS = new Limits(1 << 20, 64 << 10, 128, 64, 8 << 20);

    public Limits {
        requirePositive("maxRecordBytes", KEY_MAX_RECORD_BYTES, maxRecordBytes);
        requirePositive("maxTextBytes", KEY_MAX_TEXT_BYTES, maxTextBytes);
        requirePositive("maxIdLength", KEY_MAX_ID_LENGTH, maxIdLength);
        requirePositive("maxAttributes", KEY_MAX_ATTRIBUTES, maxAttributes);
        requirePositive("maxImageBytes", KEY_MAX_IMAGE_BYTES, maxImageBytes);
    }

    /** 1 MiB records, 64 KiB text, 128-character ids, 64 attributes, 8 MiB images. */
    public static Limits defaults() {
        return DEFAULTS;
    }

    /**
     * Reads limits from configuration keys ({@value #KEY_MAX_TEXT_BYTES} etc.); absent keys keep their defaults.
     *
     * @throws IllegalArgumentException if a value is not a positive integer
     */
    public static Limits fromMap(Map<String, String> config) {
        return new Limits(
                read(config, KEY_MAX_RECORD_BYTES, DEFAULTS.maxRecordBytes),
                read(config, KEY_MAX_TEXT_BYTES, DEFAULTS.maxTextBytes),
                read(config, KEY_MAX_ID_LENGTH, DEFAULTS.maxIdLength),
                read(config, KEY_MAX_ATTRIBUTES, DEFAULTS.maxAttributes),
                read(config, KEY_MAX_IMAGE_BYTES, DEFAULTS.maxImageBytes));
    }

    private static int read(Map<String, String> config, String key, int fallback) {
        String raw = config.get(key);
        if (raw == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(raw.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a positive integer (got '" + raw + "')", e);
        }
    }

    private static void requirePositive(String field, String key, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + " must be > 0 (got " + value + ", " + key + ")");
        }
    }
}
