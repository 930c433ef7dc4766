package io.inflow.sql;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.operators.embed.CudaOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;

import java.time.Duration;

/**
 * The {@code WITH} options of a {@code CREATE MODEL ... WITH ('provider' = 'inflow', ...)} statement. Defaults are
 * the DataStream pipeline's ({@code inflow.batch.max-records}, {@code inflow.batch.max-wait},
 * {@code inflow.text.max-tokens}); {@code backend} defaults to the session's {@code inflow.compute.backend}.
 *
 * <pre>{@code
 * CREATE MODEL embedder INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>)
 * WITH ('provider' = 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2', 'max-records' = '32');
 * }</pre>
 */
public final class InflowModelOptions {

    /** One STRING in, one ARRAY&lt;FLOAT&gt; out: the text encoder ({@link EmbeddingModelSettings}). */
    public static final String TEXT_EMBEDDING = "text-embedding";
    /** One BYTES in, ARRAY&lt;FLOAT&gt; (and the top class) out: the ViT ({@link ImageModelSettings}). */
    public static final String IMAGE_EMBEDDING = "image-embedding";
    /** One STRING in, the top label and its probability out: the scorer ({@link ClassificationModelSettings}). */
    public static final String TEXT_CLASSIFICATION = "text-classification";
    /** Every task, in the order messages list them. */
    public static final java.util.List<String> TASKS = java.util.List.of(TEXT_EMBEDDING, IMAGE_EMBEDDING,
            TEXT_CLASSIFICATION);

    public static final ConfigOption<String> TASK = ConfigOptions.key("task").stringType().noDefaultValue()
            .withDescription("What the model does: 'text-embedding' (STRING -> ARRAY<FLOAT>), 'image-embedding'"
                    + " (BYTES -> ARRAY<FLOAT> [, label STRING, score FLOAT]) or 'text-classification' (STRING ->"
                    + " label STRING, score FLOAT).");

    public static final ConfigOption<String> MODEL = ConfigOptions.key("model").stringType().noDefaultValue()
            .withDescription("text-embedding: all-minilm-l6-v2 or bge-small-en-v15 (weights inside Maven jars, no"
                    + " download). image-embedding: vit-fashion-mnist (bundled; or set 'model-dir')."
                    + " text-classification: a scorer, spam-ham-minilm (bundled) or a directory with scorer.json and"
                    + " head.safetensors.");

    public static final ConfigOption<String> MODEL_DIR = ConfigOptions.key("model-dir").stringType().noDefaultValue()
            .withDescription("image-embedding: a directory with a Hugging Face ViT or CLIP-vision config.json and"
                    + " model.safetensors, instead of the bundled 'model'.");

    public static final ConfigOption<String> PRECISION = ConfigOptions.key("precision").stringType()
            .defaultValue("float32")
            .withDescription("text-classification: float32 (the float encoder), int8 (the integer-only encoder) or"
                    + " mixed (INT4/INT8 layers under 'size-budget'); as inflow.text.scorer.precision.");

    public static final ConfigOption<String> QUANTIZED_MODEL = ConfigOptions.key("quantized-model").stringType()
            .noDefaultValue()
            .withDescription("text-classification, int8/mixed: the model.safetensors written by ./inflow quantize;"
                    + " unset: quantized once per machine into 'cache-dir'.");

    public static final ConfigOption<Double> SIZE_BUDGET = ConfigOptions.key("size-budget").doubleType()
            .defaultValue(0.85)
            .withDescription("text-classification, mixed only: the layers' weights at most this share of their INT8"
                    + " size (0.5..1).");

    public static final ConfigOption<String> CACHE_DIR = ConfigOptions.key("cache-dir").stringType()
            .defaultValue(System.getProperty("java.io.tmpdir") + "/inflow-quantized")
            .withDescription("text-classification, int8/mixed: where integer models quantized at start are kept.");

    public static final ConfigOption<PoolingMode> POOLING = ConfigOptions.key("pooling")
            .enumType(PoolingMode.class).noDefaultValue()
            .withDescription("MEAN, CLS, LAST_TOKEN or MULTI_LAYER_MEAN; default: the model's own (MEAN for MiniLM,"
                    + " CLS for bge).");

    public static final ConfigOption<Boolean> NORMALIZE = ConfigOptions.key("normalize").booleanType()
            .defaultValue(true).withDescription("L2-normalise embeddings (cosine similarity = dot product).");

    public static final ConfigOption<BackendKind> BACKEND = ConfigOptions.key("backend")
            .enumType(BackendKind.class).noDefaultValue()
            .withDescription("CPU, CUDA or AUTO; default: the session's inflow.compute.backend, else CPU. CUDA"
                    + " settings come from the session's inflow.cuda.* keys.");

    public static final ConfigOption<Integer> MAX_RECORDS = ConfigOptions.key("max-records").intType()
            .defaultValue(64).withDescription("Most rows in one micro-batch (also bounded by"
                    + " table.exec.async-ml-predict.max-concurrent-operations: Flink keeps no more rows in flight).");

    public static final ConfigOption<Duration> MAX_WAIT = ConfigOptions.key("max-wait").durationType()
            .defaultValue(Duration.ofMillis(50))
            .withDescription("Longest a row waits for its micro-batch to fill before the batch is computed anyway.");

    public static final ConfigOption<Integer> MAX_TOKENS = ConfigOptions.key("max-tokens").intType()
            .defaultValue(256).withDescription("Token limit per text, special tokens included (2..512); longer"
                    + " texts are truncated, as in the DataStream pipeline.");

    public static final ConfigOption<HeadType> HEAD = ConfigOptions.key("head").enumType(HeadType.class)
            .noDefaultValue()
            .withDescription("text-embedding: projection head after pooling, as inflow.text.head.type: NONE (default),"
                    + " LINEAR, FFN or GLU (weights from 'head-weights'; the embedding takes the head's width).");

    public static final ConfigOption<String> HEAD_WEIGHTS = ConfigOptions.key("head-weights").stringType()
            .noDefaultValue()
            .withDescription("text-embedding: safetensors file of the projection head (on every TaskManager), as"
                    + " inflow.text.head.weights.");

    public static final ConfigOption<Boolean> HEAD_PER_TOKEN = ConfigOptions.key("head-per-token").booleanType()
            .defaultValue(false)
            .withDescription("text-embedding: apply the head to every token before pooling (ColBERT style), as"
                    + " inflow.text.head.per-token.");

    public static final ConfigOption<String> ADAPTER_WEIGHTS = ConfigOptions.key("adapter-weights").stringType()
            .noDefaultValue()
            .withDescription("text-embedding: safetensors file of a low-rank residual adapter e + U(V^T e) on the"
                    + " pooled embedding, as inflow.text.adapter.weights.");

    public static final ConfigOption<Integer> DIMENSION = ConfigOptions.key("dimension").intType().noDefaultValue()
            .withDescription("Optional check (embedding tasks): the embedding width the query expects; planning fails"
                    + " when the model's differs.");

    /** Session keys shared with the DataStream pipeline (same names, read from the table configuration). */
    static final ConfigOption<BackendKind> SESSION_BACKEND = ConfigOptions.key("inflow.compute.backend")
            .enumType(BackendKind.class).defaultValue(BackendKind.CPU)
            .withDescription("The DataStream pipeline's compute backend key, the default of 'backend'.");

    static final ConfigOption<Integer> SESSION_THREADS = ConfigOptions.key("inflow.compute.threads").intType()
            .defaultValue(Runtime.getRuntime().availableProcessors())
            .withDescription("CPU kernel threads of the encoder, shared by all slots of a TaskManager.");

    private InflowModelOptions() {
    }

    /** The session's {@code inflow.compute.threads}, checked: the encoder's CPU threads. */
    static int sessionThreads(ReadableConfig session) {
        int threads = session.get(SESSION_THREADS);
        if (threads < 1) {
            throw new ValidationException("'" + SESSION_THREADS.key() + "' must be at least 1 (got " + threads + ")");
        }
        return threads;
    }

    /** The session's {@code inflow.cuda.*} settings, checked. */
    static CudaBackendConfig sessionCuda(ReadableConfig session) {
        try {
            return CudaOptions.fromConfiguration(session);
        } catch (IllegalArgumentException e) {
            throw new ValidationException("inflow.cuda.*: " + e.getMessage(), e);
        }
    }
}
