package io.inflow.schemas;

import java.util.Objects;

/**
 * A decoded text event together with the raw Kafka record it was read from. This is what flows from the decode step
 * through tokenization into the batching operator. The raw record (key, value, topic, partition, offset) travels
 * along so that any later step that rejects the text (tokenizer failure, compute failure, a non-finite output, an
 * output too large for the sink) can dead-letter it with its original bytes; its coordinates go into the enriched
 * event, so every output can be traced back to exactly one input offset.
 *
 * <p>{@code new SourcedText(decoder.decodeText(raw.value()), raw)}
 */
public record SourcedText(TextEvent event, RawRecord raw) {
    public SourcedText {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(raw, "raw");
    }

    /** The Kafka coordinates that travel on into the enriched or dead-letter record. */
    public SourceRef source() {
        return raw.source();
    }
}
