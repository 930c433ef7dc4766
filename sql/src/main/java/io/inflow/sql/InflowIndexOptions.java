package io.inflow.sql;

import io.inflow.gpu.backend.BackendKind;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/**
 * {@code WITH} options of an {@code 'connector' = 'inflow-index'} table: the corpus topic it is fed from, the Kafka
 * client settings ({@code properties.*}), and the index as the DataStream retrieval operator builds it (model,
 * metric, storage, chunk rows: the same names and defaults as {@code inflow.text.model} and
 * {@code inflow.retrieval.*}).
 *
 * <pre>{@code
 * CREATE TABLE docs (doc_id STRING, embedding ARRAY<FLOAT>, text STRING) WITH ('connector' = 'inflow-index',
 *     'topic' = 'corpus', 'properties.bootstrap.servers' = 'kafka-1:9092', 'metric' = 'cosine');
 * }</pre>
 */
public final class InflowIndexOptions {

    /** Prefix of the options handed to the Kafka consumer as they are. */
    public static final String PROPERTIES_PREFIX = "properties.";

    public static final ConfigOption<String> TOPIC = ConfigOptions.key("topic").stringType().noDefaultValue()
            .withDescription("The compacted corpus topic (key = doc_id), read from the beginning and followed.");

    public static final ConfigOption<String> BOOTSTRAP_SERVERS = ConfigOptions.key("properties.bootstrap.servers")
            .stringType().noDefaultValue()
            .withDescription("Kafka brokers of the corpus topic; other 'properties.*' keys (e.g. security.protocol,"
                    + " sasl.*) go to the consumer as they are.");

    public static final ConfigOption<String> MODEL = ConfigOptions.key("model").stringType()
            .defaultValue("all-minilm-l6-v2")
            .withDescription("The text model that embeds the documents' texts (all-minilm-l6-v2 or bge-small-en-v15);"
                    + " precomputed embeddings must name it. Queries must be embedded by the same model.");

    public static final ConfigOption<String> METRIC = ConfigOptions.key("metric").stringType().defaultValue("cosine")
            .withDescription("cosine, inner_product or l2 (score of l2: the squared distance negated), as"
                    + " inflow.retrieval.metric.");

    public static final ConfigOption<String> STORAGE = ConfigOptions.key("storage").stringType()
            .defaultValue("float16")
            .withDescription("float32, float16 or int8, as inflow.retrieval.storage.");

    public static final ConfigOption<Integer> CHUNK_ROWS = ConfigOptions.key("chunk-rows").intType()
            .defaultValue(4096).withDescription("Documents per index chunk (1..1048576), as"
                    + " inflow.retrieval.chunk-rows.");

    public static final ConfigOption<Integer> MAX_TOKENS = ConfigOptions.key("max-tokens").intType()
            .defaultValue(256).withDescription("Token limit per document text (2..512); longer texts are truncated.");

    public static final ConfigOption<BackendKind> BACKEND = ConfigOptions.key("backend")
            .enumType(BackendKind.class).noDefaultValue()
            .withDescription("CPU, CUDA or AUTO for the encoder and the search; default: the session's"
                    + " inflow.compute.backend, else CPU.");

    public static final ConfigOption<Integer> DIMENSION = ConfigOptions.key("dimension").intType().noDefaultValue()
            .withDescription("Optional check: planning fails unless the model's embeddings have this width.");

    public static final ConfigOption<Boolean> WAIT_FOR_CORPUS = ConfigOptions.key("wait-for-corpus").booleanType()
            .defaultValue(true)
            .withDescription("Hold a subtask's first search until the index has applied the corpus topic up to its"
                    + " end offsets as they were when the subtask opened (deterministic answers for a corpus that"
                    + " is already written). false: search whatever is indexed so far.");

    public static final ConfigOption<Duration> WAIT_TIMEOUT = ConfigOptions.key("wait-for-corpus.timeout")
            .durationType().defaultValue(Duration.ofMinutes(10))
            .withDescription("How long the first search waits for the corpus before it fails the task.");

    private InflowIndexOptions() {
    }
}
