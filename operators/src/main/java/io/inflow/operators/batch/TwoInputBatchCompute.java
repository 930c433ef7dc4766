package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;

/**
 * A {@link BatchCompute} with a second input that is not batched: updates the compute applies on the task thread,
 * between batches, in the mailbox (an index's upserts and deletes, a model's new version, a rule). The first input is
 * batched as usual. Connect the inputs as the use needs them, e.g. queries broadcast to every shard of a keyed
 * index: {@code corpus.keyBy(id).connect(queries.broadcast())} with the queries as the batched input.
 *
 * <pre>{@code
 * final class Lookup implements TwoInputBatchCompute<Query, QueryBatch, Hits, Result, Upsert> {
 *     public void processSide(Upsert u, Emitter<Result> out) { index.put(u.id(), u.vector()); }
 *     ...
 * }
 * }</pre>
 *
 * @param <IN2> the second (side) input
 */
public interface TwoInputBatchCompute<IN, B extends RowBatch, R, OUT, IN2> extends BatchCompute<IN, B, R, OUT> {

    /**
     * Handles one element of the second input on the task thread (with its key set when that input is keyed). It
     * may emit outputs. Keep the data batches read immutable per version (copy on write) and hand a batch its version
     * through {@link #pin()}, so an update never changes a batch in flight.
     */
    void processSide(IN2 value, Emitter<OUT> out) throws Exception;
}
