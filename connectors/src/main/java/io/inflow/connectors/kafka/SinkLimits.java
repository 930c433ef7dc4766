package io.inflow.connectors.kafka;

import java.io.Serializable;

/**
 * How large the records Inflow writes may be, kept consistent with each other: the sinks' Kafka producer
 * {@code max.request.size}, the share of a dead letter given to the original key and value
 * ({@code inflow.dead-letter.max-original-bytes}; larger originals are cut, see {@code DeadLetterRecord.fitTo}), and
 * the {@code max.message.bytes} of the output topics Inflow creates. Checked at construction: a dead letter of the
 * largest allowed original must fit one producer request, else the job would fail on the first large bad input.
 *
 * <pre>{@code
 * SinkLimits limits = new SinkLimits(1 << 20, 384 << 10);
 * limits.maxDeadLetterBytes();   // 950,296: 384 KiB of original bytes, base64 and the key once more, + 16 KiB
 * }</pre>
 *
 * @param maxRequestBytes the producers' {@code max.request.size} (Kafka's default 1 MiB, or
 *     {@code inflow.kafka.properties.max.request.size})
 * @param deadLetterMaxOriginalBytes original key + value bytes a dead letter keeps
 */
public record SinkLimits(int maxRequestBytes, int deadLetterMaxOriginalBytes) implements Serializable {

    /** Kafka's default {@code max.request.size} (and, about, the broker's {@code message.max.bytes}). */
    public static final int DEFAULT_MAX_REQUEST_BYTES = 1 << 20;
    /** Default original bytes per dead letter: its largest form stays under Kafka's 1 MiB defaults. */
    public static final int DEFAULT_DEAD_LETTER_ORIGINAL_BYTES = 384 << 10;
    /**
     * A dead letter's bytes besides the original key and value: JSON field names, coordinates (a topic name of up
     * to 249 characters), kind, stage, timestamps, the truncation object, and a message of at most 2,000 characters
     * JSON-escaped (at most 6 bytes each); rounded up.
     */
    public static final int DEAD_LETTER_FIXED_BYTES = 16 << 10;
    /** What Kafka's producer adds to a record when it checks {@code max.request.size}; rounded up. */
    public static final int RECORD_OVERHEAD_BYTES = 256;

    public SinkLimits {
        if (deadLetterMaxOriginalBytes < 1024) {
            throw new IllegalArgumentException("'" + KafkaOptions.DEAD_LETTER_MAX_ORIGINAL_BYTES.key()
                    + "' must be at least 1 kb (was " + deadLetterMaxOriginalBytes + " bytes)");
        }
        long need = maxDeadLetterBytes(deadLetterMaxOriginalBytes) + RECORD_OVERHEAD_BYTES;
        if (need > maxRequestBytes) {
            throw new IllegalArgumentException("'" + KafkaOptions.DEAD_LETTER_MAX_ORIGINAL_BYTES.key() + "' = "
                    + deadLetterMaxOriginalBytes + " bytes gives dead letters of up to " + need + " bytes, over the"
                    + " producers' max.request.size of " + maxRequestBytes + ": lower it to at most "
                    + largestOriginalFor(maxRequestBytes) + " bytes, or raise '" + KafkaOptions.PROPERTIES_PREFIX
                    + "max.request.size' (and the dlq topic's max.message.bytes) to at least " + need);
        }
    }

    /** Defaults: Kafka's 1 MiB requests and 384 KiB of original bytes per dead letter. */
    public static SinkLimits defaults() {
        return new SinkLimits(DEFAULT_MAX_REQUEST_BYTES, DEFAULT_DEAD_LETTER_ORIGINAL_BYTES);
    }

    /** Largest dead letter, key and value together: the key raw as the Kafka key, key and value again in base64. */
    public long maxDeadLetterBytes() {
        return maxDeadLetterBytes(deadLetterMaxOriginalBytes);
    }

    static long maxDeadLetterBytes(long originalBytes) {
        long base64 = 4 * ((originalBytes + 2) / 3) + 8; // key and value encoded separately: two paddings
        return originalBytes + base64 + DEAD_LETTER_FIXED_BYTES;
    }

    /** The largest original-bytes setting whose dead letters fit requests of {@code maxRequestBytes}. */
    static long largestOriginalFor(int maxRequestBytes) {
        long budget = maxRequestBytes - RECORD_OVERHEAD_BYTES - DEAD_LETTER_FIXED_BYTES - 8;
        return Math.max(0, budget * 3 / 7 - 3);
    }

    /** {@code max.message.bytes} of the output topics Inflow creates: one full producer request. */
    public int outputTopicMaxMessageBytes() {
        return maxRequestBytes;
    }
}
