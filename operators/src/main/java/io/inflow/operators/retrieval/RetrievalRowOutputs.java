package io.inflow.operators.retrieval;

import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.embed.RowOutput;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RawRecord;

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
        return queries(filterAttribute, false);
    }

    /** Events as queries, with their token vectors when {@code tokens} (MaxSim rerank). */
    public static RowOutput<QueryRow> queries(String filterAttribute, boolean tokens) {
        return new Rows<>(tokens) {
            @Override
            Object make(EnrichedEvent event, float[] embedding, float[] rowTokens, RawRecord raw) {
                return new QueryRow(embedding, filterAttribute == null ? null
                        : event.attributes().get(filterAttribute), event, raw, rowTokens);
            }
        };
    }

    /** Corpus documents (event id = document id) as index upserts. */
    public static RowOutput<DocUpdate> documents(String filterAttribute) {
        return documents(filterAttribute, false);
    }

    /** Corpus documents as index upserts, with their token vectors when {@code tokens} (MaxSim rerank). */
    public static RowOutput<DocUpdate> documents(String filterAttribute, boolean tokens) {
        return new Rows<>(tokens) {
            @Override
            Object make(EnrichedEvent event, float[] embedding, float[] rowTokens, RawRecord raw) {
                return DocUpdate.upsert(event.id(), embedding, filterAttribute == null ? null
                        : event.attributes().get(filterAttribute), raw, rowTokens);
            }
        };
    }

    /** The shared checks: an embedding is required, and token vectors too when rerank is on. */
    private abstract static class Rows<OUT> implements RowOutput<OUT> {
        private static final long serialVersionUID = 1L;
        private final boolean tokens;

        Rows(boolean tokens) {
            this.tokens = tokens;
        }

        abstract Object make(EnrichedEvent event, float[] embedding, float[] rowTokens, RawRecord raw);

        @Override
        public Object output(EnrichedEvent event, float[] embedding, RawRecord raw, long nowMs) {
            return output(event, embedding, null, raw, nowMs);
        }

        @Override
        public Object output(EnrichedEvent event, float[] embedding, float[] rowTokens, RawRecord raw, long nowMs) {
            if (embedding == null) {
                return DeadLetters.of(raw, ErrorKind.COMPUTE_FAILED,
                        "retrieval needs an embedding, the compute made none", RetrievalCompute.STAGE, nowMs);
            }
            if (tokens && rowTokens == null) {
                return DeadLetters.of(raw, ErrorKind.COMPUTE_FAILED,
                        "MaxSim rerank needs token vectors, the compute made none", RetrievalCompute.STAGE, nowMs);
            }
            return make(event, embedding, tokens ? rowTokens : null, raw);
        }

        @Override
        public boolean needsTokens() {
            return tokens;
        }
    }
}
