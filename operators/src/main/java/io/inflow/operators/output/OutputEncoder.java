package io.inflow.operators.output;

import io.inflow.operators.decode.DeadLetters;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.RecordCodec;

import java.io.Serializable;

/**
 * Encodes an enriched event into the record the sink writes (key = the input's Kafka key, value = the event's
 * JSON) and checks that the Kafka producer will accept it. An event that cannot be encoded, or whose record would
 * exceed the producer's {@code max.request.size}, becomes a dead letter of its input ({@code serialize_failed},
 * {@code output_too_large}, stage {@value #STAGE}) instead of failing the sink and, with it, the job.
 *
 * <pre>{@code
 * OutputEncoder encoder = new OutputEncoder(1 << 20);
 * OutputEncoder.Result r = encoder.encode(event, raw, now);
 * if (r.deadLetter() != null) ctx.output(DeadLetters.TAG, r.deadLetter()); else out.collect(r.record());
 * }</pre>
 */
public final class OutputEncoder implements io.inflow.operators.embed.RowOutput<io.inflow.schemas.EncodedRecord> {

    private static final long serialVersionUID = 1L;
    /** Stage name of its dead letters. */
    public static final String STAGE = "output";
    /**
     * Bytes Kafka's producer adds to a record's key and value when it checks {@code max.request.size}: a record
     * batch header (61 bytes), the record's varint header (at most 21 bytes) and room for the timestamp and
     * headers; rounded up.
     */
    public static final int RECORD_OVERHEAD_BYTES = 256;

    private final int maxRequestBytes;

    /** @param maxRequestBytes the sink producer's {@code max.request.size} */
    public OutputEncoder(int maxRequestBytes) {
        if (maxRequestBytes <= RECORD_OVERHEAD_BYTES) {
            throw new IllegalArgumentException("maxRequestBytes must exceed " + RECORD_OVERHEAD_BYTES + " (was "
                    + maxRequestBytes + ")");
        }
        this.maxRequestBytes = maxRequestBytes;
    }

    /** Largest key + value an encoded record may have. */
    public int maxRecordBytes() {
        return maxRequestBytes - RECORD_OVERHEAD_BYTES;
    }

    /** The encoded record, or the input's dead letter when the event cannot go to the sink. */
    public Result encode(EnrichedEvent event, RawRecord raw, long nowMs) {
        byte[] value;
        try {
            value = RecordCodec.encode(event);
        } catch (RuntimeException e) {
            return Result.rejected(DeadLetters.of(raw, ErrorKind.SERIALIZE_FAILED, "enriched event " + event.id()
                    + " cannot be encoded: " + e, STAGE, nowMs));
        }
        EncodedRecord record = new EncodedRecord(raw.key(), value);
        if (record.sizeBytes() > maxRecordBytes()) {
            return Result.rejected(DeadLetters.of(raw, ErrorKind.OUTPUT_TOO_LARGE, "enriched event " + event.id()
                    + " is " + record.sizeBytes() + " bytes with its key, over the " + maxRecordBytes()
                    + " the sink accepts (max.request.size " + maxRequestBytes + " less "
                    + RECORD_OVERHEAD_BYTES + " bytes of record overhead)", STAGE, nowMs));
        }
        return new Result(record, null);
    }

    /** Exactly one of {@code record} and {@code deadLetter} is set. */
    public record Result(EncodedRecord record, DeadLetterRecord deadLetter) {
        public static Result rejected(DeadLetterRecord deadLetter) {
            return new Result(null, deadLetter);
        }
    }

    /** The encoder writes the event as built; it never reads the raw embedding. */
    @Override
    public boolean needsEmbedding() {
        return false;
    }

    /** {@link RowOutput}: the encoded record, or the dead letter {@link #encode} gives. */
    @Override
    public Object output(EnrichedEvent event, float[] embedding, RawRecord raw, long nowMs) {
        Result r = encode(event, raw, nowMs);
        return r.record() != null ? r.record() : r.deadLetter();
    }
}
