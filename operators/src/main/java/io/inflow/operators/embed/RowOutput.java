package io.inflow.operators.embed;

import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RawRecord;

import java.io.Serializable;

/**
 * What an embedding operator emits for a row whose model output is usable: the encoded record for the sink
 * ({@link io.inflow.operators.output.OutputEncoder}), or an intermediate for a later stage (a retrieval query, a
 * corpus document for the index). Runs on the compute thread.
 *
 * <pre>{@code
 * RowOutput<QueryRow> toQuery = (event, embedding, raw, now) -> new QueryRow(embedding, null, event, raw);
 * }</pre>
 *
 * @param <OUT> what the operator emits
 */
@FunctionalInterface
public interface RowOutput<OUT> extends Serializable {

    /**
     * The row's output, or its {@link io.inflow.schemas.DeadLetterRecord} when it cannot go on.
     *
     * @param event the enriched event built for the row
     * @param embedding the row's embedding as the model computed it (before any output encoding); null when the
     *     compute produces none (tokens only)
     */
    Object output(EnrichedEvent event, float[] embedding, RawRecord raw, long nowMs);

    /**
     * As {@link #output(EnrichedEvent, float[], RawRecord, long)} for a row that also has per-token vectors (MaxSim
     * rerank: {@code [n, tokenDim]} row-major, unit length); outputs that need them override this.
     */
    default Object output(EnrichedEvent event, float[] embedding, float[] tokens, RawRecord raw, long nowMs) {
        return output(event, embedding, raw, nowMs);
    }

    /** Whether {@link #output} reads the per-token vectors; when not, the row's copy of them is never made. */
    default boolean needsTokens() {
        return false;
    }

    /** Whether {@link #output} reads the embedding; when not, the row's copy of it is never made. */
    default boolean needsEmbedding() {
        return true;
    }
}
