package io.inflow.operators.embed;

import io.inflow.operators.batch.Emitter;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RawRecord;

import java.util.function.Supplier;

/**
 * What an embedding compute returns for a batch: per row, the encoded enriched record or the row's dead letter.
 * Built on the compute thread (the model's output checked for NaN and infinity, the event built and encoded with the
 * sink's size check), so the task thread only hands records on.
 *
 * <pre>{@code
 * RowOutcomes r = new RowOutcomes(rows);
 * r.set(row, raw, finite, () -> EnrichedEvents.text(...), encoder, now);   // compute thread
 * r.emit(row, out);                                                        // task thread
 * }</pre>
 */
public final class RowOutcomes {

    /** Stage of the dead letters of rows whose output is unusable. */
    public static final String STAGE = "compute";

    private final Object[] rows;

    public RowOutcomes(int rows) {
        this.rows = new Object[rows];
    }

    public int rows() {
        return rows.length;
    }

    /**
     * Sets row {@code row}'s outcome: a {@code non_finite_output} dead letter when the model's output is not finite,
     * a {@code compute_failed} one when building the event throws, else the encoded event (or the encoder's
     * {@code serialize_failed} / {@code output_too_large} dead letter).
     */
    public void set(int row, RawRecord raw, boolean finite, Supplier<EnrichedEvent> event, OutputEncoder encoder,
            long nowMs) {
        if (!finite) {
            rows[row] = io.inflow.operators.decode.DeadLetters.of(raw, ErrorKind.NON_FINITE_OUTPUT,
                    "the model's output for this record holds NaN or an infinity", STAGE, nowMs);
            return;
        }
        EnrichedEvent e;
        try {
            e = event.get();
        } catch (RuntimeException ex) {
            rows[row] = io.inflow.operators.decode.DeadLetters.of(raw, ErrorKind.COMPUTE_FAILED,
                    "building the enriched event failed: " + ex, STAGE, nowMs);
            return;
        }
        OutputEncoder.Result r = encoder.encode(e, raw, nowMs);
        rows[row] = r.record() != null ? r.record() : r.deadLetter();
    }

    /** Emits row {@code row}'s record or dead letter. */
    public void emit(int row, Emitter<EncodedRecord> out) {
        if (rows[row] instanceof EncodedRecord r) {
            out.collect(r);
        } else {
            out.deadLetter((DeadLetterRecord) rows[row]);
        }
    }
}
