package io.inflow.operators.decode;

import io.inflow.schemas.RawRecord;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.ErrorKind;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

/**
 * The side output every step uses for records it rejects, and the constructor of dead-letter records.
 *
 * <p>{@code ctx.output(DeadLetters.TAG, DeadLetters.of(raw, ErrorKind.MALFORMED_JSON, "…", "decode", now));}
 */
public final class DeadLetters {

    /** Side output carrying rejected records to the dead-letter sink. */
    public static final OutputTag<DeadLetterRecord> TAG =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetterRecord.class));

    /** Longest reason kept in a dead-letter record; longer messages are cut (the kind says what went wrong). */
    public static final int MAX_MESSAGE_CHARS = 2_000;

    private DeadLetters() {
    }

    /** A dead-letter record holding the original key and value bytes and where they came from. */
    public static DeadLetterRecord of(RawRecord raw, ErrorKind kind, String message, String stage, long nowMs) {
        String msg = message == null ? kind.wireName() : message;
        if (msg.length() > MAX_MESSAGE_CHARS) {
            msg = msg.substring(0, MAX_MESSAGE_CHARS) + "...";
        }
        return new DeadLetterRecord(raw.source(), raw.key(), raw.value(), kind, msg, stage, nowMs);
    }
}
