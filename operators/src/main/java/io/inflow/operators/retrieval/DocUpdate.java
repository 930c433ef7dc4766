package io.inflow.operators.retrieval;

import io.inflow.schemas.RawRecord;

/**
 * A corpus change for the index, after embedding: an upsert with the document's vector, or a delete (no vector).
 * Keyed by {@link #docId()} into the retrieval operator's second input.
 *
 * <pre>{@code
 * DocUpdate put = DocUpdate.upsert("doc-1", vector, "tenant-a", raw);
 * DocUpdate del = DocUpdate.delete("doc-1", raw);
 * }</pre>
 *
 * @param docId the document id (the corpus record's Kafka key)
 * @param vector the embedding; null for a delete
 * @param filterValue the document's filter attribute value, or null
 * @param raw the corpus record as read (partition and offset say what the shard applied; dead letters carry it)
 * @param tokens the document's per-token vectors for MaxSim rerank ({@code [n, tokenDim]}), or null
 */
public record DocUpdate(String docId, float[] vector, String filterValue, RawRecord raw, float[] tokens) {

    public static DocUpdate upsert(String docId, float[] vector, String filterValue, RawRecord raw) {
        return upsert(docId, vector, filterValue, raw, null);
    }

    /** An upsert with the document's token vectors (rerank on). */
    public static DocUpdate upsert(String docId, float[] vector, String filterValue, RawRecord raw, float[] tokens) {
        if (vector == null) {
            throw new IllegalArgumentException("an upsert of " + docId + " needs a vector");
        }
        return new DocUpdate(docId, vector, filterValue, raw, tokens);
    }

    public static DocUpdate delete(String docId, RawRecord raw) {
        return new DocUpdate(docId, null, null, raw, null);
    }

    /** Whether this removes the document. */
    public boolean isDelete() {
        return vector == null;
    }
}
