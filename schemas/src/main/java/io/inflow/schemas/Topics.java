package io.inflow.schemas;

/**
 * Default Kafka topic names for each record type (deployments may rename them).
 *
 * <p>{@code
 * KafkaSource.<byte[]>builder().setTopics(Topics.TEXT_EVENTS, Topics.IMAGE_EVENTS) ...
 * }
 */
public final class Topics {
    /** {@link TextEvent} records. */
    public static final String TEXT_EVENTS = "events.text";
    /** {@link ImageEvent} records. */
    public static final String IMAGE_EVENTS = "events.image";
    /** {@link CorpusRecord} records; compacted, key = {@code doc_id} (UTF-8). */
    public static final String CORPUS = "corpus";
    /** {@link EnrichedEvent} records, written exactly once. */
    public static final String ENRICHED = "enriched";
    /** {@link DeadLetterRecord} records. */
    public static final String DEAD_LETTER = "dlq";
    /** {@link TopicTreeRecord} snapshots. */
    public static final String TOPIC_TREES = "topics";

    private Topics() {
    }
}
