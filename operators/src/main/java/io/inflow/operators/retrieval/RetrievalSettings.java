package io.inflow.operators.retrieval;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TokenStorage;

import java.io.Serializable;

/**
 * How the index stores and searches: embedding dimension, neighbours per query, metric, storage, rows per chunk,
 * queries per batch, and the optional MaxSim rerank stage. Built from the {@code inflow.retrieval.*} options.
 *
 * <pre>{@code
 * new RetrievalSettings(384, 10, Metric.COSINE, Storage.FLOAT16, 4096, 64);
 * new RetrievalSettings(384, 10, Metric.COSINE, Storage.FLOAT16, 4096, 64,
 *         new RetrievalSettings.Rerank(100, TokenStorage.INT8, 384));
 * }</pre>
 *
 * @param rerank the second stage, or null for single-vector search only
 */
public record RetrievalSettings(int dim, int k, Metric metric, Storage storage, int chunkCapacity, int maxBatchRows,
        Rerank rerank) implements Serializable {

    /**
     * MaxSim rerank: the best {@code candidates} documents of the single-vector search (over all shards) are
     * reordered by MaxSim of the query's token vectors against theirs ({@code tokenDim} values each, stored in
     * {@code storage}); the best k of them are the answer.
     */
    public record Rerank(int candidates, TokenStorage storage, int tokenDim) implements Serializable {
        public Rerank {
            if (candidates < 1 || candidates > SearchRequest.MAX_K) {
                throw new IllegalArgumentException("rerank candidates must be between 1 and " + SearchRequest.MAX_K
                        + " (was " + candidates + ")");
            }
            if (tokenDim < 1) {
                throw new IllegalArgumentException("token dim must be positive (was " + tokenDim + ")");
            }
        }
    }

    public RetrievalSettings {
        if (dim < 1) {
            throw new IllegalArgumentException("dim must be positive (was " + dim + ")");
        }
        if (k < 1 || k > SearchRequest.MAX_K) {
            throw new IllegalArgumentException("k must be between 1 and " + SearchRequest.MAX_K + " (was " + k + ")");
        }
        if (chunkCapacity < 1 || maxBatchRows < 1) {
            throw new IllegalArgumentException("chunk capacity and batch rows must be positive (were "
                    + chunkCapacity + ", " + maxBatchRows + ")");
        }
        if (rerank != null && rerank.candidates() < k) {
            throw new IllegalArgumentException("rerank candidates (" + rerank.candidates() + ") must be at least k ("
                    + k + ")");
        }
    }

    public RetrievalSettings(int dim, int k, Metric metric, Storage storage, int chunkCapacity, int maxBatchRows) {
        this(dim, k, metric, storage, chunkCapacity, maxBatchRows, null);
    }

    /** How many documents the first stage returns per query and shard: k, or the rerank's candidates. */
    public int firstStageK() {
        return rerank == null ? k : rerank.candidates();
    }
}
