package io.inflow.gpu.retrieval;

/**
 * The result of a search: per query up to {@code k} hits, best first (score descending, then tie key, chunk and row
 * ascending). A hit names its chunk (index into the list searched) and row, and its score ({@link Metric}).
 *
 * <pre>{@code
 * TopK top = ops.search(chunks, request);
 * for (int i = 0; i < top.hits(q); i++) { use(top.chunk(q, i), top.row(q, i), top.score(q, i)); }
 * }</pre>
 */
public final class TopK {

    private final int queries;
    private final int k;
    private final int[] hits;
    private final int[] chunk;
    private final int[] row;
    private final float[] score;

    /** Empty result space for {@code queries x k} hits, filled through {@link #set}. */
    public TopK(int queries, int k) {
        this.queries = queries;
        this.k = k;
        this.hits = new int[queries];
        this.chunk = new int[queries * k];
        this.row = new int[queries * k];
        this.score = new float[queries * k];
    }

    /** Writes hit {@code i} of query {@code q}; hits must be written in order, {@code i} = previous count. */
    public void set(int q, int i, int chunkIndex, int rowIndex, float value) {
        int at = q * k + i;
        chunk[at] = chunkIndex;
        row[at] = rowIndex;
        score[at] = value;
        hits[q] = Math.max(hits[q], i + 1);
    }

    public int queries() {
        return queries;
    }

    public int k() {
        return k;
    }

    /** Hits of query {@code q} (at most k). */
    public int hits(int q) {
        return hits[q];
    }

    public int chunk(int q, int i) {
        return chunk[q * k + i];
    }

    public int row(int q, int i) {
        return row[q * k + i];
    }

    public float score(int q, int i) {
        return score[q * k + i];
    }
}
