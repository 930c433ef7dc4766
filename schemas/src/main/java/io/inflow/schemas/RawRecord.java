package io.inflow.schemas;

import java.io.Serializable;

/**
 * A Kafka record exactly as it arrived: coordinates, timestamp and the untouched key and value bytes. The source
 * emits these and never fails on content, so a record that cannot be decoded still reaches the decode step, which
 * sends it to the dead-letter topic with its original bytes.
 *
 * <p>{@code RawRecord r = new RawRecord("events.text", 0, 42L, ts, keyBytes, valueBytes); r.source();}
 *
 * @param key may be null (Kafka allows null keys)
 * @param value may be null (a tombstone)
 */
public record RawRecord(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value)
        implements Serializable {

    /** The coordinates that travel on into enriched and dead-letter records. */
    public SourceRef source() {
        return new SourceRef(topic, partition, offset, timestamp);
    }

    /** Compares the key and value bytes by content (a record's default would compare the arrays' identity). */
    @Override
    public boolean equals(Object o) {
        return o instanceof RawRecord r && partition == r.partition && offset == r.offset
                && timestamp == r.timestamp && topic.equals(r.topic) && java.util.Arrays.equals(key, r.key)
                && java.util.Arrays.equals(value, r.value);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(topic, partition, offset, timestamp, java.util.Arrays.hashCode(key),
                java.util.Arrays.hashCode(value));
    }

    @Override
    public String toString() {
        return topic + "-" + partition + "@" + offset;
    }
}
