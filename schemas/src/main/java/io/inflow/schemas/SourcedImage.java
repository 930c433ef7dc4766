package io.inflow.schemas;

import java.util.Objects;

/**
 * A decoded image event (the envelope; pixels are decoded later) together with the raw Kafka record it came from.
 * The raw record travels along because pixel decoding happens in a later step, and an image that fails there goes
 * to the dead-letter topic with its original key and value bytes.
 *
 * <p>{@code new SourcedImage(decoder.decodeImage(raw.value()), raw)}
 */
public record SourcedImage(ImageEvent event, RawRecord raw) {
    public SourcedImage {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(raw, "raw");
    }

    /** The Kafka coordinates that travel on into the enriched or dead-letter record. */
    public SourceRef source() {
        return raw.source();
    }
}
