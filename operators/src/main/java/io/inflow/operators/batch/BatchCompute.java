package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;
import io.inflow.operators.metrics.BatchMetrics;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;

import org.apache.arrow.memory.BufferAllocator;

import java.io.Serializable;
import java.util.List;

/**
 * The one contract every batching operator implements: what a row is in Arrow, how a batch is computed, and what a
 * computed row emits. {@link BatchOperator} (one input, keyed or not) and {@link TwoInputBatchOperator} run it: they
 * collect rows into pooled Arrow batches, compute each batch on the operator's own compute thread (bisecting a
 * failing batch down to its poison rows), and call {@link #emit} on the task thread for every row, in row order.
 *
 * <p>Where each method runs:
 * <ul>
 *   <li>task thread, while collecting: {@link #bucketOf}, {@link #newBatch}, {@link #fits}, {@link #append},
 *       {@link #isFull}, {@link #units}, {@link #rejected};</li>
 *   <li>compute thread: {@link #open}, {@link #compute}, {@link #close} (and {@link #newBatch} / {@link #append}
 *       for the halves of a bisected batch);</li>
 *   <li>task thread, while emitting: {@link #emit} and {@link #emitBatch}; in a keyed operator with the row's key
 *       set, so keyed state can be read and written.</li>
 * </ul>
 * The compute is serialized into the job graph: keep models and buffers in transient fields made in {@link #open}.
 *
 * <pre>{@code
 * final class UpperCase implements BatchCompute<String, TextBatch, String[], String> {
 *     public TextBatch newBatch(BufferAllocator a, int bucket) { return new TextBatch(a, 64); }
 *     public void append(TextBatch b, String in) { b.append(in); }
 *     public String[] compute(TextBatch b, List<String> in) { return in.stream().map(String::toUpperCase)...; }
 *     public int resultRows(String[] r) { return r.length; }
 *     public void emit(String in, int row, String[] r, Emitter<String> out) { out.collect(r[row]); }
 *     ...
 * }
 * DataStream<String> out = in.transform("upper", Types.STRING, BatchOperatorFactory.of(new UpperCase(), limits));
 * }</pre>
 *
 * @param <IN> input row
 * @param <B> Arrow batch
 * @param <R> what {@link #compute} returns for a batch (or a bisected part of one)
 * @param <OUT> what the operator emits
 */
public interface BatchCompute<IN, B extends RowBatch, R, OUT> extends Serializable {

    /**
     * Registers the compute's own state (task thread, before {@link #open()}); by default it keeps none. Buffered
     * rows are the operator's business: they survive checkpoints without this.
     */
    default void initializeState(StateStores stores) throws Exception {
    }

    /**
     * Which parallel instance of which job this is (task thread, before {@link #initializeState}); by default
     * ignored. A sharded compute (an index shard) names its shard and the shard count with it, and labels its own
     * metrics with the job name.
     */
    default void taskInfo(String job, int subtask, int parallelism) {
    }

    // ---- collecting (task thread) -----------------------------------------------------------------

    /** Number of buckets, each with its own open batch (e.g. token-length buckets); called once at open. */
    default int bucketCount() {
        return 1;
    }

    /** The bucket of a row. */
    default int bucketOf(IN input) {
        return 0;
    }

    /** A new, empty Arrow batch of the bucket. */
    B newBatch(BufferAllocator allocator, int bucket);

    /**
     * Whether the row can join the (non-empty) batch without exceeding a limit. When it cannot, the batch is handed
     * to compute first and the row starts a new one, so a row too large to share (a large image) forms a batch of
     * its own. By default: while rows are left.
     */
    default boolean fits(B batch, IN input) {
        return !batch.isFull();
    }

    /** Appends the row to the Arrow batch. */
    void append(B batch, IN input);

    /** Whether the batch must be handed to compute now (after an append). By default: when its rows are full. */
    default boolean isFull(B batch) {
        return batch.isFull();
    }

    /** Real and padded work units of a batch for the metrics (tokens, patch tokens); by default its rows. */
    default long[] units(B batch) {
        return new long[] {batch.rowCount(), batch.rowCount()};
    }

    /** A short description of a batch's shape for messages, e.g. {@code 64 rows x 128 tokens}. */
    default String describe(B batch) {
        return batch.rowCount() + " rows";
    }

    /** The row's original Kafka record: what its dead letter carries. */
    RawRecord raw(IN input);

    /**
     * The dead letter of a row an earlier step already gave up on (the tokenizer threw on it), or null for a row to
     * batch. Such a row never enters a batch.
     */
    default DeadLetterRecord rejected(IN input, long nowMs) {
        return null;
    }

    /** Called for every row before it is batched (metrics such as truncation). */
    default void onRecord(IN input, BatchMetrics metrics) {
    }

    // ---- compute thread -----------------------------------------------------------------------------

    /** Loads models and buffers; runs once on the compute thread before the first batch. */
    void open() throws Exception;

    /** The model stamped on outputs and metrics; valid after {@link #open()}. */
    ModelRef model();

    /** The backend label of the metrics ({@code cpu-fast}, {@code cuda}); valid after {@link #open()}. */
    default String backend() {
        return "cpu";
    }

    /**
     * Hands the compute a way to emit later, from any thread ({@link DeferredOutput}); called once on the task thread
     * before {@link #open()}. By default ignored.
     */
    default void deferredOutput(DeferredOutput<OUT> later) {
    }

    /**
     * Whether a batch is already waiting for the compute's model, which other operator instances share (e.g.
     * {@code SharedModel}): a batch past max-wait handed over now would only queue behind it, so the core keeps
     * filling it, at most {@code maxHold} after its first row. Called on the task thread; by default: never.
     */
    default boolean backlogged() {
        return false;
    }

    /**
     * Computes one batch whose rows are {@code inputs}. The Arrow batch is valid only during the call: copy what
     * {@link #emit} needs into the result. Throwing marks the batch as failed: it is bisected, and a row that fails
     * on its own is dead-lettered ({@code compute_failed}).
     */
    R compute(B batch, List<IN> inputs) throws Exception;

    /**
     * The version of shared data a batch computes against (an index, reference vectors), taken on the task thread
     * when the batch is handed to compute and passed to {@link #compute(RowBatch, List, Object)}: updates applied
     * afterwards (e.g. by {@link TwoInputBatchCompute#processSide}) never change a batch in flight. By default none.
     */
    default Object pin() {
        return null;
    }

    /** {@link #compute(RowBatch, List)} against the version {@link #pin()} took; override both to use it. */
    default R compute(B batch, List<IN> inputs, Object pinned) throws Exception {
        return compute(batch, inputs);
    }

    /** Rows in a result; must equal the batch's rows. */
    int resultRows(R result);

    /** Frees what {@link #open()} took. */
    default void close() throws Exception {
    }

    // ---- emitting (task thread) ---------------------------------------------------------------------

    /**
     * Emits the outputs of one row ({@code row} indexes {@code result}): none, one or many through
     * {@link Emitter#collect}, a dead letter through {@link Emitter#deadLetter}, or side outputs.
     */
    void emit(IN input, int row, R result, Emitter<OUT> out) throws Exception;

    /** Emits outputs of a whole computed batch (or bisected part) after its rows; by default none. */
    default void emitBatch(List<IN> inputs, R result, Emitter<OUT> out) throws Exception {
    }
}
