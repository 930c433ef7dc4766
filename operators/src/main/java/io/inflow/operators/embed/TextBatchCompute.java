package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.schemas.ModelRef;

import java.io.Serializable;

/**
 * The work done on one full micro-batch, off the Flink task thread. Implementations wrap a model (the encoder of the
 * text-embedding issue) or, in the tokenization-only pipeline, report the batch's token statistics.
 *
 * <p>Lifecycle: created on the client, serialized into the job graph, {@link #open()} once per operator instance on
 * its compute thread, then {@link #compute(TokenBatch)} once per batch from that same thread, then {@link #close()}.
 * Throwing from {@code compute} fails the task (Flink restarts it from the last checkpoint); record-level problems
 * are caught before a record reaches a batch.
 *
 * <pre>{@code
 * TextBatchCompute compute = new TokenizationOnlyCompute(TextModel.ALL_MINILM_L6_V2);
 * compute.open();
 * BatchOutput out = compute.compute(batch);
 * }</pre>
 */
public interface TextBatchCompute extends Serializable {

    /** Loads models and buffers; runs on the compute thread. */
    void open() throws Exception;

    /** The model stamped on every enriched event. */
    ModelRef model();

    /**
     * The backend that computes, as the {@code backend} label of the metrics ({@code cpu-fast}, {@code cuda}, ...);
     * valid after {@link #open()}.
     */
    default String backend() {
        return "cpu";
    }

    /**
     * Whether a batch is already waiting for this compute's model (shared with other slots, {@link SharedModel}): a
     * batch handed over now would queue behind it, so the batching core keeps filling it. By default: never.
     */
    default boolean backlogged() {
        return false;
    }

    /** Computes one batch. The batch is only valid during the call: copy what the output needs. */
    BatchOutput compute(TokenBatch batch) throws Exception;

    /** Frees what {@link #open()} took. */
    default void close() throws Exception {
    }
}
