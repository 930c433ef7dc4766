package io.inflow.jobs.config;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.TextModel;
import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.batch.BatchingOptions;
import io.inflow.gpu.head.HeadType;
import io.inflow.operators.embed.CudaOptions;
import io.inflow.jobs.faults.StallingCompute;
import io.inflow.operators.embed.EmbeddingEncoding;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.operators.embed.EncoderSpec;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.operators.embed.TokenizationOnlyCompute;
import io.inflow.schemas.Limits;

import org.apache.flink.configuration.ReadableConfig;

import java.time.Duration;

/**
 * Everything the pipeline reads from the Flink configuration, validated at start: a bad value or an unknown
 * {@code inflow.*} key ({@link KnownKeys}) fails here with a message naming the key, long before any record is read.
 *
 * <p>{@code PipelineSettings s = PipelineSettings.from(config);}
 *
 * @param images the image branch's settings, null when {@code inflow.image.enabled} is false
 * @param retrieval the retrieval settings, null when {@code inflow.retrieval.enabled} is false
 * @param topics the topic tree's settings, null when {@code inflow.topics.enabled} is false
 */
public record PipelineSettings(KafkaSettings kafka, BatchingConfig batching, TextModel model, int maxTokens,
        EmbeddingEncoding encoding, Limits limits, TextBatchCompute compute, int tokenizerThreads, ImageSettings images,
        RetrievalJobSettings retrieval, TopicJobSettings topics) {

    public static PipelineSettings from(ReadableConfig config) {
        KnownKeys.check(config);
        KafkaSettings kafka = KafkaOptions.settings(config);
        BatchingConfig batching = BatchingOptions.fromConfiguration(config);
        TextModel model;
        try {
            model = TextModel.byName(config.get(PipelineOptions.TEXT_MODEL));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + PipelineOptions.TEXT_MODEL.key() + "': " + e.getMessage(), e);
        }
        int maxTokens = Ranges.between(config, PipelineOptions.TEXT_MAX_TOKENS, 2,
                TextTokenizer.MAX_SUPPORTED_TOKENS);
        int longest = batching.buckets()[batching.buckets().length - 1];
        if (maxTokens > longest) {
            throw new IllegalArgumentException("'" + PipelineOptions.TEXT_MAX_TOKENS.key() + "' (" + maxTokens
                    + ") exceeds the longest of '" + BatchingOptions.BUCKETS.key() + "' (" + longest
                    + "): add a bucket of at least " + maxTokens + " or lower the token limit");
        }
        Limits limits;
        try {
            limits = new Limits(config.get(PipelineOptions.MAX_RECORD_BYTES), config.get(PipelineOptions.MAX_TEXT_BYTES),
                    config.get(PipelineOptions.MAX_ID_LENGTH), config.get(PipelineOptions.MAX_ATTRIBUTES),
                    config.get(PipelineOptions.MAX_IMAGE_BYTES));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("inflow.schemas.*: " + e.getMessage(), e);
        }
        ImageSettings images = config.get(ImageOptions.ENABLED)
                ? ImageSettings.from(config, limits.maxImageBytes(), config.get(PipelineOptions.COMPUTE_BACKEND),
                        computeThreads(config))
                : null;
        RetrievalJobSettings retrieval = RetrievalJobSettings.from(config, model.dimension(), model.modelName(),
                config.get(PipelineOptions.COMPUTE_BACKEND), computeThreads(config));
        if (retrieval != null && retrieval.tokenHead() != null && config.getOptional(PipelineOptions.TEXT_POOLING)
                .orElse(model.defaultPooling()) == io.inflow.gpu.pooling.PoolingMode.MULTI_LAYER_MEAN) {
            throw new IllegalArgumentException("'" + RetrievalOptions.RERANK_ENABLED.key() + "' needs the last layer's"
                    + " token vectors but '" + PipelineOptions.TEXT_POOLING.key() + "' is MULTI_LAYER_MEAN: pick"
                    + " another pooling or turn the rerank off");
        }
        if (retrieval != null && config.get(PipelineOptions.TEXT_COMPUTE) == PipelineOptions.TextCompute.TOKENS) {
            throw new IllegalArgumentException("'" + RetrievalOptions.ENABLED.key() + "' needs embeddings but '"
                    + PipelineOptions.TEXT_COMPUTE.key() + "' is TOKENS: set it to EMBED or turn retrieval off");
        }
        if (retrieval != null && config.get(PipelineOptions.TEXT_HEAD) != HeadType.NONE) {
            throw new IllegalArgumentException("'" + RetrievalOptions.ENABLED.key() + "' with '"
                    + PipelineOptions.TEXT_HEAD.key() + "' is not supported yet (the index is sized for the model's "
                    + model.dimension() + " dimensions): unset the head or turn retrieval off");
        }
        TopicJobSettings topics = TopicJobSettings.from(config, textEmbeddingDimension(config, model),
                computeThreads(config));
        if (topics != null && config.get(PipelineOptions.TEXT_COMPUTE) == PipelineOptions.TextCompute.TOKENS) {
            throw new IllegalArgumentException("'" + TopicOptions.ENABLED.key() + "' needs embeddings but '"
                    + PipelineOptions.TEXT_COMPUTE.key() + "' is TOKENS: set it to EMBED or turn the topic tree off");
        }
        if (ScorerSettings.configured(config)
                && config.get(PipelineOptions.TEXT_COMPUTE) == PipelineOptions.TextCompute.TOKENS) {
            throw new IllegalArgumentException("'" + ScorerOptions.SCORER.key() + "' needs the encoder but '"
                    + PipelineOptions.TEXT_COMPUTE.key() + "' is TOKENS: set it to EMBED (and "
                    + PipelineOptions.EMBEDDING_ENCODING.key() + "=OMIT to leave the vectors out) or unset the scorer");
        }
        return new PipelineSettings(kafka, batching, model, maxTokens, config.get(PipelineOptions.EMBEDDING_ENCODING),
                limits, StallingCompute.wrap(compute(config, model, longest),
                config.getOptional(PipelineOptions.COMPUTE_STALL_FILE).orElse(null)), tokenizerThreads(config), images, retrieval, topics);
    }

    /** Whether the corpus is indexed and events get neighbours ({@code inflow.retrieval.enabled}). */
    public boolean retrievalEnabled() {
        return retrieval != null;
    }


    /** Whether events are clustered into topic trees ({@code inflow.topics.enabled}). */
    public boolean topicsEnabled() {
        return topics != null;
    }

    /** Whether the image branch runs ({@code inflow.image.enabled}). */
    public boolean imagesEnabled() {
        return images != null;
    }

    private static int computeThreads(ReadableConfig config) {
        return Ranges.between(config, PipelineOptions.COMPUTE_THREADS, 1, 1024);
    }

    private static int tokenizerThreads(ReadableConfig config) {
        return Ranges.between(config, PipelineOptions.TOKENIZER_THREADS, 1, 64);
    }

    /**
     * The width of the text embeddings the job emits: the model's, or the projection head's output (read from the
     * head's weights file, so what stores embeddings is sized before any task starts). A per-token head's tokens are
     * pooled at the head's width too ({@code TextEncoder.dimension()}).
     */
    static int textEmbeddingDimension(ReadableConfig config, TextModel model) {
        HeadType head = config.get(PipelineOptions.TEXT_HEAD);
        if (head == HeadType.NONE || head == HeadType.LOW_RANK_ADAPTER) {
            return model.dimension();
        }
        String weights = config.getOptional(PipelineOptions.TEXT_HEAD_WEIGHTS).orElseThrow(() ->
                new IllegalArgumentException("'" + PipelineOptions.TEXT_HEAD.key() + "' is " + head + " but '"
                        + PipelineOptions.TEXT_HEAD_WEIGHTS.key() + "' is not set: give the head's safetensors file"));
        try {
            return io.inflow.gpu.head.Heads.outDim(io.inflow.gpu.head.HeadConfig.of(head, java.nio.file.Path.of(
                    weights)));
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException("'" + PipelineOptions.TEXT_HEAD_WEIGHTS.key() + "': cannot read the"
                    + " head's output width from " + weights + ": " + e.getMessage(), e);
        }
    }

    private static TextBatchCompute compute(ReadableConfig config, TextModel model, int longestBucket) {
        if (config.get(PipelineOptions.TEXT_COMPUTE) == PipelineOptions.TextCompute.TOKENS) {
            return new TokenizationOnlyCompute(model);
        }
        HeadType head = config.get(PipelineOptions.TEXT_HEAD);
        String headWeights = config.getOptional(PipelineOptions.TEXT_HEAD_WEIGHTS).orElse(null);
        if (head != HeadType.NONE && headWeights == null) {
            throw new IllegalArgumentException("'" + PipelineOptions.TEXT_HEAD.key() + "' is " + head + " but '"
                    + PipelineOptions.TEXT_HEAD_WEIGHTS.key() + "' is not set: give the head's safetensors file");
        }
        int threads = computeThreads(config);
        EncoderSpec spec = new EncoderSpec(model,
                config.getOptional(PipelineOptions.TEXT_POOLING).orElse(model.defaultPooling()),
                config.get(PipelineOptions.TEXT_NORMALIZE), head, headWeights,
                config.get(PipelineOptions.TEXT_HEAD_PER_TOKEN),
                config.getOptional(PipelineOptions.TEXT_ADAPTER_WEIGHTS).orElse(null),
                config.get(PipelineOptions.COMPUTE_BACKEND), threads, longestBucket,
                CudaOptions.fromConfiguration(config));
        try {
            spec.toConfig(); // the encoder's own build-time checks, on the client
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("encoder settings (inflow.text.*): " + e.getMessage(), e);
        }
        return new EncoderCompute(spec, null, ScorerSettings.from(config, model, threads));
    }

    /** The checkpoint interval to use when the configuration sets none. */
    public static Duration defaultCheckpointInterval(ReadableConfig config) {
        return config.get(PipelineOptions.DEFAULT_CHECKPOINT_INTERVAL);
    }
}
