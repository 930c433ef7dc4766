package io.inflow.schemas;

import java.util.Arrays;
import java.util.Objects;

/**
 * An output record in its wire form, as it goes to Kafka: key and value bytes. Operators encode enriched events
 * off the task thread and check their size against the sink's limit before they leave (an event that cannot be
 * encoded or is too large becomes a dead letter instead), so the sink only writes bytes.
 *
 * <p>{@code EncodedRecord r = new EncodedRecord(raw.key(), RecordCodec.encode(event));}
 *
 * @param key the Kafka key (the input's key by convention; may be null)
 * @param value the encoded record, never null
 */
public record EncodedRecord(byte[] key, byte[] value) {

    public EncodedRecord {
        Objects.requireNonNull(value, "value");
    }

    /** Key plus value bytes. */
    public int sizeBytes() {
        return (key == null ? 0 : key.length) + value.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EncodedRecord r && Arrays.equals(key, r.key) && Arrays.equals(value, r.value);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(key) + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "EncodedRecord[key=" + (key == null ? "null" : key.length + " bytes") + ", value=" + value.length
                + " bytes]";
    }
}
