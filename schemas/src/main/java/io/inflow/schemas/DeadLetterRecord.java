package io.inflow.schemas;

import java.util.Arrays;
import java.util.Objects;

/**
 * A record that could not be processed, on topic {@code dlq}: the original Kafka key and value bytes (null when
 * the Kafka record had none; base64 on the wire), where it came from, and why it failed. {@code stage} is a
 * short free string naming the step ({@code "decode"}, {@code "tokenize"}, {@code "compute"}). The byte arrays
 * are not copied; {@code equals} and {@code hashCode} compare them by content.
 *
 * <p>A dead letter always fits its topic: {@link #fitTo(int)} cuts the original bytes above a size and records
 * what was cut in {@link #truncation()} (original sizes and SHA-256 of the whole key and value), so an input of any
 * size the broker accepted still leaves a dead letter the sink can write.
 *
 * <p>{@code
 * try {
 *     out.collect(decoder.decode(value));
 * } catch (RecordRejectedException e) {
 *     byte[] dlq = RecordCodec.encode(DeadLetterRecord.of(source, key, value, e, "decode", now).fitTo(512 << 10));
 * }
 * }
 *
 * @param truncation null when {@code key} and {@code value} are the whole original bytes
 */
public record DeadLetterRecord(SourceRef source, byte[] key, byte[] value, ErrorKind kind, String message,
                               String stage, long failedAt, Truncation truncation) {

    public DeadLetterRecord {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(message, "message");
        Copies.requireNonEmpty(stage, "stage");
        Copies.requireNonNegative(failedAt, "failedAt");
        message = Utf8.withoutUnpairedSurrogates(message);
    }

    /** A dead letter holding the whole original key and value. */
    public DeadLetterRecord(SourceRef source, byte[] key, byte[] value, ErrorKind kind, String message, String stage,
            long failedAt) {
        this(source, key, value, kind, message, stage, failedAt, null);
    }

    /** A dead letter for a rejection: kind and message come from the exception. */
    public static DeadLetterRecord of(SourceRef source, byte[] key, byte[] value, RecordRejectedException error,
                                      String stage, long failedAt) {
        return new DeadLetterRecord(source, key, value, error.kind(), error.getMessage(), stage, failedAt);
    }

    /**
     * What was cut from the original record: its sizes and the SHA-256 (lower-case hex) of the whole key and value,
     * so a consumer can tell the bytes it holds are a prefix and match them against the source.
     *
     * @param keySize bytes of the original key, -1 when it had none
     * @param keySha256 SHA-256 of the whole key, null when it had none
     * @param valueSize bytes of the original value, -1 when it had none
     * @param valueSha256 SHA-256 of the whole value, null when it had none
     */
    public record Truncation(long keySize, String keySha256, long valueSize, String valueSha256) {
    }

    /** Key and value bytes this dead letter carries. */
    public long originalBytes() {
        return (key == null ? 0 : key.length) + (value == null ? 0 : value.length);
    }

    /**
     * This dead letter with at most {@code maxOriginalBytes} of the original key and value together: itself when
     * they fit, else the key cut to at most a quarter of the budget and the value to the rest, with a
     * {@link Truncation} naming the whole sizes and hashes.
     *
     * @param maxOriginalBytes at least 1024
     */
    public DeadLetterRecord fitTo(int maxOriginalBytes) {
        if (maxOriginalBytes < 1024) {
            throw new IllegalArgumentException("maxOriginalBytes must be at least 1024 (was " + maxOriginalBytes + ")");
        }
        if (truncation != null || originalBytes() <= maxOriginalBytes) {
            return this;
        }
        int keyLen = key == null ? 0 : key.length;
        int keyKeep = Math.min(keyLen, Math.max(maxOriginalBytes / 4, maxOriginalBytes - (value == null ? 0
                : value.length)));
        int valueKeep = value == null ? 0 : Math.min(value.length, maxOriginalBytes - keyKeep);
        Truncation t = new Truncation(key == null ? -1 : key.length, key == null ? null : Sha256.hex(key),
                value == null ? -1 : value.length, value == null ? null : Sha256.hex(value));
        return new DeadLetterRecord(source, key == null ? null : Arrays.copyOf(key, keyKeep),
                value == null ? null : Arrays.copyOf(value, valueKeep), kind, message, stage, failedAt, t);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeadLetterRecord d
                && source.equals(d.source) && Arrays.equals(key, d.key) && Arrays.equals(value, d.value)
                && kind == d.kind && message.equals(d.message) && stage.equals(d.stage) && failedAt == d.failedAt
                && Objects.equals(truncation, d.truncation);
    }

    @Override
    public int hashCode() {
        return Objects.hash(source, Arrays.hashCode(key), Arrays.hashCode(value), kind, message, stage, failedAt,
                truncation);
    }

    @Override
    public String toString() {
        return "DeadLetterRecord[source=" + source + ", key=" + describe(key) + ", value=" + describe(value)
                + ", kind=" + kind + ", message=" + message + ", stage=" + stage + ", failedAt=" + failedAt
                + (truncation == null ? "" : ", truncated from " + truncation) + "]";
    }

    private static String describe(byte[] bytes) {
        return bytes == null ? "null" : bytes.length + " bytes";
    }
}
