package io.inflow.gpu.retrieval;

import java.util.Objects;

/**
 * A batch of queries for {@link RetrievalOps#search}: {@code count} float32 vectors of {@code dim} values, row-major
 * in {@code queries}; the {@code k} best live documents per query by {@code metric}; optionally one filter code per
 * query (a query with a code only matches rows with the same code; {@link VectorChunk#NO_FILTER_CODE} or a null
 * array: no filter).
 *
 * <p>{@code SearchRequest r = new SearchRequest(queries, 64, 384, 10, Metric.COSINE, null);}
 */
public record SearchRequest(float[] queries, int count, int dim, int k, Metric metric, int[] filterCodes) {

    /** The largest k a search accepts (FAISS's GPU limit, which the kernels match). */
    public static final int MAX_K = 2048;

    public SearchRequest {
        Objects.requireNonNull(queries, "queries");
        Objects.requireNonNull(metric, "metric");
        if (count < 0 || dim < 1 || (long) count * dim > queries.length) {
            throw new IllegalArgumentException("queries hold " + queries.length + " values, " + count + " x " + dim
                    + " needed");
        }
        if (k < 1 || k > MAX_K) {
            throw new IllegalArgumentException("k must be between 1 and " + MAX_K + " (was " + k + ")");
        }
        if (filterCodes != null && filterCodes.length < count) {
            throw new IllegalArgumentException("filterCodes has " + filterCodes.length + " entries for " + count
                    + " queries");
        }
    }

    /** The filter code of query {@code q}. */
    public int filterCode(int q) {
        return filterCodes == null ? VectorChunk.NO_FILTER_CODE : filterCodes[q];
    }
}
