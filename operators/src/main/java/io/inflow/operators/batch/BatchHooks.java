package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RawRecord;

/**
 * What {@link BisectingRunner} needs from an operator to compute a batch and, when it fails, smaller batches of
 * its rows: the operator's hooks, called on the compute thread.
 */
interface BatchHooks<IN, B extends RowBatch, R> {

    /** A new, empty Arrow batch of the bucket, for the rows of a bisected half. */
    B newBatch(int bucket);

    void append(B batch, IN input);

    R compute(B batch) throws Exception;

    int resultRows(R result);

    /** Whether row {@code row} of the result is all finite numbers. */
    boolean finite(R result, int row);

    EnrichedEvent enrich(IN input, B batch, int row, R result, long nowMs);

    /** The input's original Kafka record, for its dead letter. */
    RawRecord raw(IN input);

    /** A short description of a batch's shape for messages, e.g. {@code 64 rows x 128 tokens}. */
    String describe(B batch);
}
