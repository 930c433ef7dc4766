package io.inflow.operators.retrieval;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;

import java.io.Serializable;

/**
 * How the index stores and searches: embedding dimension, neighbours per query, metric, storage, rows per chunk and
 * queries per batch. Built from the {@code inflow.retrieval.*} options.
 *
 * <p>{@code new RetrievalSettings(384, 10, Metric.COSINE, Storage.FLOAT16, 4096, 64)}
 */
public record RetrievalSettings(int dim, int k, Metric metric, Storage storage, int chunkCapacity, int maxBatchRows)
        implements Serializable {

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
    }
}
