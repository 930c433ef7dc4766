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

    public static final ConfigOption<Boolean> ENABLED = ConfigOptions.key("inflow.retrieval.enabled")
            .booleanType().defaultValue(false)
            .withDescription("Index the corpus topic and answer every text event with its nearest documents.");

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
