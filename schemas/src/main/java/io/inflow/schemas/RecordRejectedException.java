package io.inflow.schemas;

import java.util.Objects;

/**
 * A record failed decoding or validation. {@link #kind()} classifies the failure for the dead-letter topic;
 * the message names the field and the offending value or limit, e.g.
 * {@code field 'text' is 70000 bytes, limit is 65536 (inflow.schemas.max-text-bytes)}.
 *
 * <p>{@code
 * try {
 *     InputEvent event = decoder.decode(value);
 * } catch (RecordRejectedException e) {
 *     dlq.send(DeadLetterRecord.of(source, key, value, e, "decode", System.currentTimeMillis()));
 * }
 * }
 */
public final class RecordRejectedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ErrorKind kind;

    public RecordRejectedException(ErrorKind kind, String message) {
        this(kind, message, null);
    }

    public RecordRejectedException(ErrorKind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    /** The classification of this rejection. */
    public ErrorKind kind() {
        return kind;
    }

    @Override
    public String toString() {
        return "RecordRejectedException[" + kind.wireName() + "]: " + getMessage();
    }
}
