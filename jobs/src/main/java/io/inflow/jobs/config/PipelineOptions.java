package io.inflow.jobs.config;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.operators.embed.EmbeddingEncoding;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/**
 * Flink configuration keys of the text pipeline that are not Kafka's ({@code KafkaOptions}) or the batcher's
 * ({@code BatchingOptions}). Set them in the Flink configuration file or on the command line with
 * {@code -Dkey=value}.
 */
public final class PipelineOptions {

    public static final ConfigOption<String> TEXT_MODEL = ConfigOptions.key("inflow.text.model")
            .stringType().defaultValue("all-minilm-l6-v2")
            .withDescription("Text model whose tokenizer (and, with the encoder, weights) the pipeline uses:"
                    + " all-minilm-l6-v2 or bge-small-en-v15.");

    public static final ConfigOption<Integer> TEXT_MAX_TOKENS = ConfigOptions.key("inflow.text.max-tokens")
            .intType().defaultValue(256)
            .withDescription("Token limit per text, special tokens included; longer texts are truncated and"
                    + " flagged (truncated=true in the enriched event). At most 512.");

    public static final ConfigOption<Integer> TOKENIZER_THREADS = ConfigOptions.key("inflow.text.tokenizer-threads")
            .intType().defaultValue(1)
            .withDescription("Tokenizer threads per subtask (tokenization runs off the task thread). One thread"
                    + " tokenized the bundled sample (65 tokens per text on average) at about 120 us per text on a"
                    + " shared 2-core VM, far ahead of a CPU encoder.");

    public static final ConfigOption<EmbeddingEncoding> EMBEDDING_ENCODING = ConfigOptions
            .key("inflow.embedding.encoding").enumType(EmbeddingEncoding.class)
            .defaultValue(EmbeddingEncoding.FLOAT32)
            .withDescription("How enriched events carry embeddings: OMIT, FLOAT32 (JSON array) or FLOAT16_BASE64.");

    public static final ConfigOption<Integer> MAX_RECORD_BYTES = ConfigOptions.key("inflow.schemas.max-record-bytes")
            .intType().defaultValue(1 << 20)
            .withDescription("Largest input record value; larger ones go to the dead-letter topic.");

    public static final ConfigOption<Integer> MAX_IMAGE_BYTES = ConfigOptions.key("inflow.schemas.max-image-bytes")
            .intType().defaultValue(8 << 20)
            .withDescription("Largest encoded image (inline after base64 decoding, or a file: reference); larger"
                    + " ones go to the dead-letter topic (image_too_large).");

    public static final ConfigOption<Integer> MAX_TEXT_BYTES = ConfigOptions.key("inflow.schemas.max-text-bytes")
            .intType().defaultValue(64 << 10)
            .withDescription("Largest UTF-8 size of a text field; larger ones go to the dead-letter topic.");

    public static final ConfigOption<Integer> MAX_ID_LENGTH = ConfigOptions.key("inflow.schemas.max-id-length")
            .intType().defaultValue(128)
            .withDescription("Most characters of an id (id, doc_id); longer ones go to the dead-letter topic.");

    public static final ConfigOption<Integer> MAX_ATTRIBUTES = ConfigOptions.key("inflow.schemas.max-attributes")
            .intType().defaultValue(64)
            .withDescription("Most entries of an event's attributes; more go to the dead-letter topic.");

    public static final ConfigOption<Duration> DEFAULT_CHECKPOINT_INTERVAL = ConfigOptions
            .key("inflow.checkpoint.default-interval").durationType().defaultValue(Duration.ofSeconds(10))
            .withDescription("Checkpoint interval used when execution.checkpointing.interval is not set."
                    + " Exactly-once output becomes visible to read_committed consumers at each checkpoint.");

    /** What the compute step of the text pipeline does. */
    public enum TextCompute {
        /** Run the transformer encoder: enriched events carry embeddings. */
        EMBED,
        /** Tokenize only: enriched events carry token counts (cheap; for plumbing tests and token accounting). */
        TOKENS
    }

    public static final ConfigOption<TextCompute> TEXT_COMPUTE = ConfigOptions.key("inflow.text.compute")
            .enumType(TextCompute.class).defaultValue(TextCompute.EMBED)
            .withDescription("EMBED runs the encoder on each batch; TOKENS stops after tokenization.");

    public static final ConfigOption<PoolingMode> TEXT_POOLING = ConfigOptions.key("inflow.text.pooling")
            .enumType(PoolingMode.class).noDefaultValue()
            .withDescription("MEAN, CLS, LAST_TOKEN or MULTI_LAYER_MEAN; default: the model's own (MEAN for"
                    + " all-minilm-l6-v2, CLS for bge-small-en-v15).");

    public static final ConfigOption<Boolean> TEXT_NORMALIZE = ConfigOptions.key("inflow.text.normalize")
            .booleanType().defaultValue(true)
            .withDescription("L2-normalise embeddings (cosine similarity becomes a dot product).");

    public static final ConfigOption<HeadType> TEXT_HEAD = ConfigOptions.key("inflow.text.head.type")
            .enumType(HeadType.class).defaultValue(HeadType.NONE)
            .withDescription("Projection head after pooling: NONE, LINEAR, FFN or GLU (weights from"
                    + " inflow.text.head.weights; shapes in gpu/README.md).");

    public static final ConfigOption<String> TEXT_HEAD_WEIGHTS = ConfigOptions.key("inflow.text.head.weights")
            .stringType().noDefaultValue()
            .withDescription("Safetensors file of the projection head.");

    public static final ConfigOption<Boolean> TEXT_HEAD_PER_TOKEN = ConfigOptions.key("inflow.text.head.per-token")
            .booleanType().defaultValue(false)
            .withDescription("Apply the head to every token before pooling (ColBERT style) instead of after.");

    public static final ConfigOption<String> TEXT_ADAPTER_WEIGHTS = ConfigOptions.key("inflow.text.adapter.weights")
            .stringType().noDefaultValue()
            .withDescription("Safetensors file of a low-rank residual adapter e + U(V^T e) on the pooled embedding.");

    public static final ConfigOption<BackendKind> COMPUTE_BACKEND = ConfigOptions.key("inflow.compute.backend")
            .enumType(BackendKind.class).defaultValue(BackendKind.CPU)
            .withDescription("CPU, CUDA or AUTO (CUDA when a device is present, else CPU). The default stays CPU"
                    + " until the CUDA kernels have passed the contract suite on a GPU (gpu/CUDA-STATUS.md).");

    public static final ConfigOption<Integer> COMPUTE_THREADS = ConfigOptions.key("inflow.compute.threads")
            .intType().defaultValue(Runtime.getRuntime().availableProcessors())
            .withDescription("CPU kernel threads of the encoder, shared by all slots of a task manager.");

    public static final ConfigOption<String> COMPUTE_STALL_FILE = ConfigOptions
            .key("inflow.fault-injection.compute-stall-file").stringType().noDefaultValue()
            .withDescription("Fault drill, off unless set: while this file exists on a TaskManager's host, every"
                    + " text batch waits before it computes (back pressure and lag rehearsals, the stall test).");

    private PipelineOptions() {
    }
}
