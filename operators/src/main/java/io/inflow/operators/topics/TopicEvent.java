package io.inflow.operators.topics;

import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RawRecord;

/**
 * An embedded event on its way into the topic tree: the stream is keyed by {@link #key()} (tenant and modality, e.g.
 * {@code acme|text}), so every key has its own window and tree.
 *
 * <p>{@code new TopicEvent("acme|text", "ev-17", "a text", embedding, raw)}
 *
 * @param key tenant and modality
 * @param id the event's id (how tree snapshots name representative members)
 * @param text a short text for snapshots (the event's text, or a caption for an image); may be empty
 * @param embedding the event's embedding
 * @param raw the Kafka record it came from (for dead letters)
 * @param event the enriched event the pipeline built for it, passed through to the {@link TopicAssignment} (may be
 *     null)
 */
public record TopicEvent(String key, String id, String text, float[] embedding, RawRecord raw, EnrichedEvent event) {

    /** An event without an enriched event to pass through. */
    public TopicEvent(String key, String id, String text, float[] embedding, RawRecord raw) {
        this(key, id, text, embedding, raw, null);
    }

    /** The key of a tenant and modality. */
    public static String keyOf(String tenant, String modality) {
        return tenant + "|" + modality;
    }
}
