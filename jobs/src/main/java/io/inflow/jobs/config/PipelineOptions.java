package io.inflow.jobs.config;

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

    public static final ConfigOption<EmbeddingEncoding> EMBEDDING_ENCODING = ConfigOptions
            .key("inflow.embedding.encoding").enumType(EmbeddingEncoding.class)
            .defaultValue(EmbeddingEncoding.FLOAT32)
            .withDescription("How enriched events carry embeddings: OMIT, FLOAT32 (JSON array) or FLOAT16_BASE64.");

    public static final ConfigOption<Integer> MAX_RECORD_BYTES = ConfigOptions.key("inflow.schemas.max-record-bytes")
            .intType().defaultValue(1 << 20)
            .withDescription("Largest input record value; larger ones go to the dead-letter topic.");

    public static final ConfigOption<Integer> MAX_TEXT_BYTES = ConfigOptions.key("inflow.schemas.max-text-bytes")
            .intType().defaultValue(64 << 10)
            .withDescription("Largest UTF-8 size of a text field; larger ones go to the dead-letter topic.");

    public static final ConfigOption<Duration> DEFAULT_CHECKPOINT_INTERVAL = ConfigOptions
            .key("inflow.checkpoint.default-interval").durationType().defaultValue(Duration.ofSeconds(10))
            .withDescription("Checkpoint interval used when execution.checkpointing.interval is not set."
                    + " Exactly-once output becomes visible to read_committed consumers at each checkpoint.");

    private PipelineOptions() {
    }
}
