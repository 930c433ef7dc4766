package io.inflow.schemas;

import java.util.Arrays;
import java.util.Objects;

/**
 * A record that could not be processed, on topic {@code dlq}: the original Kafka key and value bytes (null when
 * the Kafka record had none; base64 on the wire), where it came from, and why it failed. {@code stage} is a
 * short free string naming the step ({@code "decode"}, {@code "tokenize"}, {@code "compute"}). The byte arrays
 * are not copied; {@code equals} and {@code hashCode} compare them by content.
 *
 * <p>{@code
 * try {
 *     out.collect(decoder.decode(value));
 * } catch (RecordRejectedException e) {
 *     byte[] dlq = RecordCodec.encode(DeadLetterRecord.of(source, key, value, e, "decode", now));
 * }
 * }
 */
public record DeadLetterRecord(SourceRef source, byte[] key, byte[] value, ErrorKind kind, String message,
                               String stage, long failedAt) {

    public DeadLetterRecord {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(message, "message");
        Copies.requireNonEmpty(stage, "stage");
        Copies.requireNonNegative(failedAt, "failedAt");
    }

    /** A dead letter for a rejection: kind and message come from the exception. */
    public static DeadLetterRecord of(SourceRef source, byte[] key, byte[] value, RecordRejectedException error,
                                      String stage, long failedAt) {
        return new DeadLetterRecord(source, key, value, error.kind(), error.getMessage(), stage, failedAt);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeadLetterRecord d
                && source.equals(d.source) && Arrays.equals(key, d.key) && Arrays.equals(value, d.value)
                && kind == d.kind && message.equals(d.message) && stage.equals(d.stage) && failedAt == d.failedAt;
    }

    @Override
    public int hashCode() {
        return Objects.hash(source, Arrays.hashCode(key), Arrays.hashCode(value), kind, message, stage, failedAt);
    }

    @Override
    public String toString() {
        return "DeadLetterRecord[source=" + source + ", key=" + describe(key) + ", value=" + describe(value)
                + ", kind=" + kind + ", message=" + message + ", stage=" + stage + ", failedAt=" + failedAt + "]";
    }

    private static String describe(byte[] bytes) {
        return bytes == null ? "null" : bytes.length + " bytes";
    }
}
