package io.inflow.jobs.config;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.head.BundledHeads;
import io.inflow.gpu.head.Heads;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.TokenStorage;
import io.inflow.operators.embed.TokenHeadSpec;
import io.inflow.operators.retrieval.RetrievalSettings;

import org.apache.flink.configuration.ReadableConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * @param tokenHead the per-token head of the MaxSim rerank, or null when rerank is off
 */
public record RetrievalJobSettings(RetrievalSettings index, Duration maxWait, String filterAttribute,
        BackendKind backend, int threads, TokenHeadSpec tokenHead) {

    /** The settings, or null when {@code inflow.retrieval.enabled} is false. */
    public static RetrievalJobSettings from(ReadableConfig config, int dim, BackendKind backend, int threads) {
        return from(config, dim, null, backend, threads);
    }

    /** As above; {@code model} (the text model's name) decides which bundled rerank heads fit. */
    public static RetrievalJobSettings from(ReadableConfig config, int dim, String model, BackendKind backend,
            int threads) {
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
        TokenHeadSpec head = null;
        RetrievalSettings.Rerank rerank = null;
        if (config.get(RetrievalOptions.RERANK_ENABLED)) {
            int candidates = Ranges.between(config, RetrievalOptions.RERANK_CANDIDATES, k, SearchRequest.MAX_K);
            head = rerankHead(config, model);
            rerank = new RetrievalSettings.Rerank(candidates, rerankStorage(config), tokenDim(head, dim));
        }
        return new RetrievalJobSettings(new RetrievalSettings(dim, k,
                RetrievalOptions.metric(config.get(RetrievalOptions.METRIC)),
                RetrievalOptions.storage(config.get(RetrievalOptions.STORAGE)), chunk, rows, rerank), wait, filter,
                backend, threads, head);
    }

    /**
     * The image index's settings: the text index's k, metric, storage, chunk and batch sizes at the image encoder's
     * width {@code dim}, without rerank (MaxSim rerank is for text only).
     */
    public RetrievalSettings imageIndex(int dim) {
        return new RetrievalSettings(dim, index.k(), index.metric(), index.storage(), index.chunkCapacity(),
                index.maxBatchRows(), null);
    }

    private static TokenHeadSpec rerankHead(ReadableConfig config, String model) {
        String file = config.getOptional(RetrievalOptions.RERANK_HEAD_FILE).map(String::trim).orElse(null);
        String variant = config.getOptional(RetrievalOptions.RERANK_HEAD).map(String::trim)
                .orElse(model == null || BundledHeads.MODELS.contains(model) ? RetrievalOptions.DEFAULT_HEAD
                        : TokenHeadSpec.NONE);
        TokenHeadSpec head;
        try {
            head = TokenHeadSpec.of(variant, file);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + RetrievalOptions.RERANK_HEAD.key() + "': " + e.getMessage(), e);
        }
        if (file != null && !Files.isRegularFile(Path.of(file))) {
            throw new IllegalArgumentException("'" + RetrievalOptions.RERANK_HEAD_FILE.key() + "': no such file "
                    + file);
        }
        if (!head.isNone() && file == null && model != null && !BundledHeads.MODELS.contains(model)) {
            throw new IllegalArgumentException("'" + RetrievalOptions.RERANK_HEAD.key() + "' is " + variant
                    + ": the bundled heads were trained for " + BundledHeads.MODELS + ", not " + model
                    + "; set it to none or give '" + RetrievalOptions.RERANK_HEAD_FILE.key() + "'");
        }
        return head;
    }

    private static TokenStorage rerankStorage(ReadableConfig config) {
        try {
            return TokenStorage.parse(config.get(RetrievalOptions.RERANK_STORAGE));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + RetrievalOptions.RERANK_STORAGE.key() + "': " + e.getMessage(), e);
        }
    }

    /** Bundled heads and none keep the model's width; a head file's width is read off its last matrix. */
    private static int tokenDim(TokenHeadSpec head, int dim) {
        if (head.file() == null) {
            return dim;
        }
        try {
            return Heads.outDim(head.toHeadConfig(null));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("'" + RetrievalOptions.RERANK_HEAD_FILE.key() + "': cannot read "
                    + head.file() + " as a " + head.variant() + " head: " + e.getMessage(), e);
        }
    }
}
