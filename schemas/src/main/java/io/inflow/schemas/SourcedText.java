package io.inflow.schemas;

import java.util.Objects;

/**
 * A decoded text event together with the Kafka coordinates it was read from. This is what flows from the decode
 * step into the batching operator; the source travels on into the enriched event (and into the dead-letter record if
 * a later step rejects it), so every output can be traced back to exactly one input offset.
 *
 * <p>{@code new SourcedText(event, new SourceRef("events.text", 0, 42L, ts))}
 */
public record SourcedText(TextEvent event, SourceRef source) {
    public SourcedText {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(source, "source");
    }
}
