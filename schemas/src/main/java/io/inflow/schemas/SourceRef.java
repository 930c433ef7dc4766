package io.inflow.schemas;

import java.io.Serializable;
import java.util.Objects;

/**
 * Where a record came from: Kafka topic, partition, offset and record timestamp (epoch ms; Kafka uses -1 for
 * "no timestamp"). On the wire: {@code "source":{"topic":"events.text","partition":0,"offset":42,"timestamp":1732300000000}}.
 *
 * <p>{@code
 * SourceRef source = new SourceRef(rec.topic(), rec.partition(), rec.offset(), rec.timestamp());
 * }
 */
public record SourceRef(String topic, int partition, long offset, long timestamp) implements Serializable {
    public SourceRef {
        Objects.requireNonNull(topic, "topic");
        if (topic.isEmpty()) {
            throw new IllegalArgumentException("topic must not be empty");
        }
        if (partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0 (got " + partition + ")");
        }
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0 (got " + offset + ")");
        }
        if (timestamp < -1) {
            throw new IllegalArgumentException("timestamp must be >= -1 (got " + timestamp + ")");
        }
    }
}
