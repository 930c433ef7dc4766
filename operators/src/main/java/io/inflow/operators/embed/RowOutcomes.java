package io.inflow.operators.embed;

import io.inflow.operators.batch.Emitter;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RawRecord;

import java.util.List;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;
import java.util.function.Supplier;

/**
 * What an embedding compute returns for a batch: per row, its output ({@link RowOutput}: the encoded enriched record,
 * or an intermediate for a later stage) or the row's dead letter.
 * Built on the compute thread (the model's output checked for NaN and infinity, the event built and encoded with the
 * sink's size check), so the task thread only hands records on.
 *
 * <pre>{@code
 * RowOutcomes r = new RowOutcomes(rows);
 * r.set(row, raw, finite, () -> EnrichedEvents.text(...), embedding, encoder, now);   // compute thread
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

    /**
     * The outcomes of a computed batch whose model output has {@code resultRows} rows: per input, {@link #set} with
     * its raw record, whether its row is finite, and its event built by {@code event} (row index to event).
     *
     * @throws IllegalStateException when the model returned another number of rows than the batch has
     */
    public static <IN> RowOutcomes build(List<IN> inputs, int resultRows, Function<IN, RawRecord> raw,
            IntPredicate finite, IntFunction<EnrichedEvent> event, IntFunction<float[]> embedding,
            RowOutput<?> output, long nowMs) {
        return build(inputs, resultRows, raw, finite, event, embedding, r -> null, output, nowMs);
    }

    /** As above, with each row's per-token vectors ({@code tokens}: row index to its vectors, or null). */
    public static <IN> RowOutcomes build(List<IN> inputs, int resultRows, Function<IN, RawRecord> raw,
            IntPredicate finite, IntFunction<EnrichedEvent> event, IntFunction<float[]> embedding,
            IntFunction<float[]> tokens, RowOutput<?> output, long nowMs) {
        if (resultRows != inputs.size()) {
            throw new IllegalStateException("compute returned " + resultRows + " rows for a batch of "
                    + inputs.size());
        }
        RowOutcomes outcomes = new RowOutcomes(inputs.size());
        for (int row = 0; row < inputs.size(); row++) {
            int r = row;
            outcomes.set(row, raw.apply(inputs.get(row)), finite.test(row), () -> event.apply(r),
                    embedding.apply(r), tokens.apply(r), output, nowMs);
        }
        return outcomes;
    }

    public int rows() {
        return rows.length;
    }

    /**
     * Sets row {@code row}'s outcome: a {@code non_finite_output} dead letter when the model's output is not finite,
     * a {@code compute_failed} one when building the event throws, else the encoded event (or the encoder's
     * {@code serialize_failed} / {@code output_too_large} dead letter).
     */
    public void set(int row, RawRecord raw, boolean finite, Supplier<EnrichedEvent> event, float[] embedding,
            RowOutput<?> output, long nowMs) {
        set(row, raw, finite, event, embedding, null, output, nowMs);
    }

    /** As above, with the row's per-token vectors (null: none). */
    public void set(int row, RawRecord raw, boolean finite, Supplier<EnrichedEvent> event, float[] embedding,
            float[] tokens, RowOutput<?> output, long nowMs) {
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
        rows[row] = tokens == null ? output.output(e, embedding, raw, nowMs)
                : output.output(e, embedding, tokens, raw, nowMs);
    }

    /** Emits row {@code row}'s record or dead letter. */
    @SuppressWarnings("unchecked")
    public <OUT> void emit(int row, Emitter<OUT> out) {
        if (rows[row] instanceof DeadLetterRecord letter) {
            out.deadLetter(letter);
        } else {
            out.collect((OUT) rows[row]);
        }
    }
}
