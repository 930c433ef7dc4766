package io.inflow.gpu.retrieval;

import java.util.List;

/**
 * The retrieval kernel family ({@code Family.RETRIEVAL}): exact top-k over an index held as {@link VectorChunk}s.
 * Every backend returns the same hits in the same order (score descending; equal scores by tie key, then chunk, then
 * row ascending); scores agree within the storage's tolerance. Deleted rows and rows whose filter code differs from
 * the query's never appear.
 *
 * <pre>{@code
 * TopK top = backend.retrieval().search(List.of(chunk), new SearchRequest(q, 1, 384, 10, Metric.COSINE, null));
 * }</pre>
 */
public interface RetrievalOps {

    /**
     * The {@code request.k()} best rows per query over {@code chunks} (all of the request's dim).
     *
     * @throws IllegalArgumentException when a chunk's dim differs from the request's
     */
    TopK search(List<VectorChunk> chunks, SearchRequest request);
}
