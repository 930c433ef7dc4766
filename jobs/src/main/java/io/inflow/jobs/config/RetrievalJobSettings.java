package io.inflow.jobs.config;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.operators.retrieval.RetrievalSettings;

import org.apache.flink.configuration.ReadableConfig;

import java.time.Duration;

/**
 * The retrieval part of the pipeline's settings ({@link RetrievalOptions}), validated at start.
 *
 * <p>{@code RetrievalJobSettings r = RetrievalJobSettings.from(config, 384, BackendKind.CPU, 2);}
 *
 * @param index the index's dimension, k, metric, storage, chunk and batch sizes
 * @param maxWait how long a query waits for its batch
 * @param filterAttribute the attribute queries and documents must share, or null
 * @param backend the backend kind that searches (the encoder's, {@code inflow.compute.backend})
 * @param threads its kernel threads ({@code inflow.compute.threads})
 */
public record RetrievalJobSettings(RetrievalSettings index, Duration maxWait, String filterAttribute,
        BackendKind backend, int threads) {

    /** The settings, or null when {@code inflow.retrieval.enabled} is false. */
    public static RetrievalJobSettings from(ReadableConfig config, int dim, BackendKind backend, int threads) {
        if (!config.get(RetrievalOptions.ENABLED)) {
            return null;
        }
        int k = Ranges.between(config, RetrievalOptions.K, 1, SearchRequest.MAX_K);
        int chunk = Ranges.between(config, RetrievalOptions.CHUNK_ROWS, 1, 1 << 20);
        int rows = Ranges.between(config, RetrievalOptions.BATCH_MAX_ROWS, 1, 4096);
        Duration wait = config.get(RetrievalOptions.BATCH_MAX_WAIT);
        if (wait.isNegative() || wait.isZero()) {
            throw new IllegalArgumentException("'" + RetrievalOptions.BATCH_MAX_WAIT.key() + "' must be positive (was "
                    + wait + ")");
        }
        String filter = config.getOptional(RetrievalOptions.FILTER_ATTRIBUTE).map(String::trim).orElse(null);
        if (filter != null && filter.isEmpty()) {
            throw new IllegalArgumentException("'" + RetrievalOptions.FILTER_ATTRIBUTE.key()
                    + "' is empty: name an attribute or leave it unset");
        }
        return new RetrievalJobSettings(new RetrievalSettings(dim, k,
                RetrievalOptions.metric(config.get(RetrievalOptions.METRIC)),
                RetrievalOptions.storage(config.get(RetrievalOptions.STORAGE)), chunk, rows), wait, filter, backend,
                threads);
    }
}
