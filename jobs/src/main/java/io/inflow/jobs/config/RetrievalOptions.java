package io.inflow.jobs.config;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.Storage;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/**
 * Flink configuration keys of dense retrieval: the corpus topic ({@code inflow.topics.corpus}) is embedded into a
 * sharded index, and every text event is answered with its nearest documents ({@code neighbours} on the enriched
 * event). Off by default; the demo turns it on.
 *
 * <p>{@code ./inflow run -Dinflow.retrieval.enabled=true -Dinflow.retrieval.k=20 -Dinflow.retrieval.storage=int8}
 */
public final class RetrievalOptions {

    /** The rerank head used when {@code inflow.retrieval.rerank.head} is unset and the model has bundled heads. */
    public static final String DEFAULT_HEAD = "glu-residual";

    public static final ConfigOption<Boolean> ENABLED = ConfigOptions.key("inflow.retrieval.enabled")
            .booleanType().defaultValue(false)
            .withDescription("Index the corpus topic and answer every text event with its nearest documents; with"
                    + " inflow.image.enabled, image documents go to a second index that answers image events.");

    public static final ConfigOption<Integer> K = ConfigOptions.key("inflow.retrieval.k")
            .intType().defaultValue(10)
            .withDescription("Neighbours per event, 1..2048.");

    public static final ConfigOption<String> METRIC = ConfigOptions.key("inflow.retrieval.metric")
            .stringType().defaultValue("cosine")
            .withDescription("cosine, inner_product or l2 (an l2 neighbour's score is the squared distance"
                    + " negated).");

    public static final ConfigOption<String> STORAGE = ConfigOptions.key("inflow.retrieval.storage")
            .stringType().defaultValue("float16")
            .withDescription("How document vectors are held: float32, float16 (half the memory) or int8 (a quarter,"
                    + " one scale per vector).");

    public static final ConfigOption<Integer> CHUNK_ROWS = ConfigOptions.key("inflow.retrieval.chunk-rows")
            .intType().defaultValue(4096)
            .withDescription("Documents per index chunk: the unit copied when a document changes under a search in"
                    + " flight.");

    public static final ConfigOption<Integer> BATCH_MAX_ROWS = ConfigOptions.key("inflow.retrieval.batch.max-rows")
            .intType().defaultValue(64)
            .withDescription("Queries searched together (one pass over the documents per batch).");

    public static final ConfigOption<Duration> BATCH_MAX_WAIT = ConfigOptions.key("inflow.retrieval.batch.max-wait")
            .durationType().defaultValue(Duration.ofMillis(20))
            .withDescription("Longest a query waits for its batch to fill.");

    public static final ConfigOption<String> FILTER_ATTRIBUTE = ConfigOptions.key("inflow.retrieval.filter-attribute")
            .stringType().noDefaultValue()
            .withDescription("An attribute (e.g. tenant): an event with it only gets documents with the same value."
                    + " Unset: no filter.");

    public static final ConfigOption<Boolean> RERANK_ENABLED = ConfigOptions.key("inflow.retrieval.rerank.enabled")
            .booleanType().defaultValue(false)
            .withDescription("Two stages: the best 'inflow.retrieval.rerank.candidates' documents by single-vector"
                    + " score are reordered by MaxSim (late interaction) of the query's token vectors against"
                    + " theirs. Documents keep one vector per token: see the README for the memory.");

    public static final ConfigOption<Integer> RERANK_CANDIDATES = ConfigOptions
            .key("inflow.retrieval.rerank.candidates")
            .intType().defaultValue(100)
            .withDescription("Documents the first stage hands to the MaxSim rerank, k..2048.");

    public static final ConfigOption<String> RERANK_HEAD = ConfigOptions.key("inflow.retrieval.rerank.head")
            .stringType().noDefaultValue()
            .withDescription("Projection head applied to every token before MaxSim: none (the model's last layer),"
                    + " or linear, linear-residual, ffn, ffn-residual, glu, glu-residual (bundled heads trained for"
                    + " all-minilm-l6-v2, or the architecture of 'inflow.retrieval.rerank.head-file'). Unset:"
                    + " " + DEFAULT_HEAD + " (the best on the README's WordNet table) where the model has bundled heads,"
                    + " none otherwise.");

    public static final ConfigOption<String> RERANK_HEAD_FILE = ConfigOptions.key("inflow.retrieval.rerank.head-file")
            .stringType().noDefaultValue()
            .withDescription("Safetensors weights of a head of your own (its architecture named by"
                    + " 'inflow.retrieval.rerank.head'); unset: the bundled head.");

    public static final ConfigOption<String> RERANK_STORAGE = ConfigOptions.key("inflow.retrieval.rerank.storage")
            .stringType().defaultValue("int8")
            .withDescription("How token vectors are held: float32, int8 (one scale per token) or bit1 (signs and"
                    + " one scale per token, 1/32 of float32).");

    private RetrievalOptions() {
    }

    /** The metric, or an error naming the key. */
    static Metric metric(String value) {
        try {
            return Metric.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + METRIC.key() + "': " + e.getMessage(), e);
        }
    }

    /** The storage, or an error naming the key. */
    static Storage storage(String value) {
        try {
            return Storage.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + STORAGE.key() + "': " + e.getMessage(), e);
        }
    }
}
