package io.inflow.operators.topics;

import io.inflow.operators.embed.RowOutput;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.TextEvent;

/**
 * Embedding rows as {@link TopicEvent}s for the topic tree: keyed by the tenant (the value of {@code tenantAttribute}
 * among the event's attributes, {@value #DEFAULT_TENANT} without it) and the modality; the text kept for snapshots is
 * the input text (read back from the raw record, cut to {@link #MAX_TEXT_CHARS}) or, for an image, its best class.
 *
 * <p>{@code new TextEmbedCompute<>(batching, compute, encoding, TopicRowOutput.of("tenant", limits))}
 */
public final class TopicRowOutput implements RowOutput<TopicEvent> {

    private static final long serialVersionUID = 1L;
    /** Tenant of events without the tenant attribute. */
    public static final String DEFAULT_TENANT = "default";
    /** Characters of an event's text kept in the window (representative texts of snapshots). */
    public static final int MAX_TEXT_CHARS = 200;

    private final String tenantAttribute;
    private final InputDecoder decoder;

    private TopicRowOutput(String tenantAttribute, Limits limits) {
        this.tenantAttribute = tenantAttribute;
        this.decoder = new InputDecoder(limits);
    }

    public static TopicRowOutput of(String tenantAttribute, Limits limits) {
        return new TopicRowOutput(tenantAttribute, limits);
    }

    @Override
    public Object output(EnrichedEvent event, float[] embedding, RawRecord raw, long nowMs) {
        String tenant = event.attributes().getOrDefault(tenantAttribute, DEFAULT_TENANT);
        return new TopicEvent(TopicEvent.keyOf(tenant, event.inputType()), event.id(), text(event, raw), embedding,
                raw, event);
    }

    private String text(EnrichedEvent event, RawRecord raw) {
        String text = "";
        if (EnrichedEvent.INPUT_TEXT.equals(event.inputType())) {
            try {
                TextEvent t = decoder.decodeText(raw.value());
                text = t.text();
            } catch (Exception e) {
                text = ""; // decoded once already upstream; a second failure only loses the snapshot text
            }
        } else if (!event.scores().isEmpty()) {
            text = event.scores().get(0).label();
        }
        return text.length() <= MAX_TEXT_CHARS ? text : text.substring(0, MAX_TEXT_CHARS);
    }
}
