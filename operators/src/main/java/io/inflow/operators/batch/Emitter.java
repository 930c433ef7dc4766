package io.inflow.operators.batch;

import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.ErrorKind;

import org.apache.flink.util.OutputTag;

/**
 * Where {@link BatchCompute#emit} puts a row's outputs: the main output (stamped with the row's timestamp), the
 * dead-letter side output (with the row's original bytes), or any other side output.
 *
 * <pre>{@code
 * public void emit(TokenizedText in, int row, Outcomes r, Emitter<EncodedRecord> out) {
 *     if (r.failed(row)) out.deadLetter(ErrorKind.NON_FINITE_OUTPUT, "NaN in the embedding", "compute");
 *     else out.collect(r.record(row));
 * }
 * }</pre>
 *
 * @param <OUT> the operator's output type
 */
public interface Emitter<OUT> {

    /** Emits one output of the current row. */
    void collect(OUT value);

    /** Sends the current row to the dead letters with its original key and value. */
    void deadLetter(ErrorKind kind, String message, String stage);

    /** Sends a ready dead letter (its own source and bytes). */
    void deadLetter(DeadLetterRecord letter);

    /** Emits to a side output, with the current row's timestamp. */
    <X> void sideOutput(OutputTag<X> tag, X value);

    /** The current row's stream timestamp, {@code Long.MIN_VALUE} when it has none. */
    long timestamp();
}
