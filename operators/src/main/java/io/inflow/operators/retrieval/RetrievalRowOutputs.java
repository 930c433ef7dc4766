package io.inflow.operators.retrieval;

import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.embed.RowOutput;
import io.inflow.schemas.ErrorKind;

/**
 * What the embedding operators emit when retrieval runs: events become {@link QueryRow}s, corpus documents become
 * {@link DocUpdate} upserts, each with the raw embedding and the value of the filter attribute (e.g. the tenant).
 *
 * <pre>{@code
 * new TextEmbedCompute<>(batching, compute, encoding, RetrievalRowOutputs.queries("tenant"));
 * new TextEmbedCompute<>(batching, compute, encoding, RetrievalRowOutputs.documents("tenant"));
 * }</pre>
 */
public final class RetrievalRowOutputs {

    private RetrievalRowOutputs() {
    }

    /** Events as queries; {@code filterAttribute} null: no filter. */
    public static RowOutput<QueryRow> queries(String filterAttribute) {
        return (event, embedding, raw, now) -> embedding == null
                ? DeadLetters.of(raw, ErrorKind.COMPUTE_FAILED, "retrieval needs an embedding, the compute made none",
                        RetrievalCompute.STAGE, now)
                : new QueryRow(embedding, filterAttribute == null ? null : event.attributes().get(filterAttribute),
                        event, raw);
    }

    /** Corpus documents (event id = document id) as index upserts. */
    public static RowOutput<DocUpdate> documents(String filterAttribute) {
        return (event, embedding, raw, now) -> embedding == null
                ? DeadLetters.of(raw, ErrorKind.COMPUTE_FAILED, "retrieval needs an embedding, the compute made none",
                        RetrievalCompute.STAGE, now)
                : DocUpdate.upsert(event.id(), embedding,
                        filterAttribute == null ? null : event.attributes().get(filterAttribute), raw);
    }
}
