package io.inflow.e2e.bench;

import io.inflow.schemas.RecordCodec;
import io.inflow.schemas.RecordRejectedException;
import io.inflow.schemas.SourceRef;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Verifies a run's output before its timing is believed: reads all of {@code enriched} and {@code dlq} with
 * {@code read_committed} and requires every input offset of the input topic to have exactly one output (an enriched
 * event when {@code expectEnriched}), none twice, none missing.
 *
 * <p>{@code OutputCheck.everyInputOnce(bootstrap, "b1.text", "b1.enriched", "b1.dlq");}
 */
final class OutputCheck {

    private OutputCheck() {
    }

    /** Result: inputs, outputs read, inputs seen twice or more, inputs without output, dead letters. */
    record Result(long inputs, long outputs, long duplicated, long missing, long deadLetters) {
        boolean ok() {
            return duplicated == 0 && missing == 0 && outputs == inputs;
        }

        @Override
        public String toString() {
            return String.format("%d inputs, %d outputs (%d dead letters), %d duplicated, %d missing", inputs,
                    outputs, deadLetters, duplicated, missing);
        }
    }

    static Result everyInputOnce(String bootstrap, String inputTopic, String enriched, String deadLetters) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", bootstrap);
        p.setProperty("isolation.level", "read_committed");
        p.setProperty("enable.auto.commit", "false");
        p.setProperty("max.poll.records", "5000");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            Map<TopicPartition, Long> inputEnds = c.endOffsets(partitions(c, inputTopic));
            List<TopicPartition> outs = new ArrayList<>(partitions(c, enriched));
            outs.addAll(partitions(c, deadLetters));
            Map<TopicPartition, Long> outEnds = c.endOffsets(outs);
            c.assign(outs);
            c.seekToBeginning(outs);
            Map<Integer, BitSet> seen = new HashMap<>();
            long outputs = 0;
            long dead = 0;
            long duplicated = 0;
            while (outs.stream().anyMatch(tp -> c.position(tp) < outEnds.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    SourceRef s;
                    try {
                        s = r.topic().equals(enriched) ? RecordCodec.decodeEnriched(r.value()).source()
                                : RecordCodec.decodeDeadLetter(r.value()).source();
                    } catch (RecordRejectedException e) {
                        throw new IllegalStateException("unreadable output " + r.topic() + "-" + r.partition() + "@"
                                + r.offset() + ": " + e.getMessage(), e);
                    }
                    if (!r.topic().equals(enriched)) {
                        dead++;
                    }
                    outputs++;
                    BitSet b = seen.computeIfAbsent(s.partition(), k -> new BitSet());
                    if (!s.topic().equals(inputTopic) || b.get((int) s.offset())) {
                        duplicated++;
                    }
                    b.set((int) s.offset());
                }
            }
            long inputs = 0;
            long missing = 0;
            for (var e : inputEnds.entrySet()) {
                inputs += e.getValue();
                BitSet b = seen.getOrDefault(e.getKey().partition(), new BitSet());
                missing += e.getValue() - b.get(0, (int) (long) e.getValue()).cardinality();
            }
            return new Result(inputs, outputs, duplicated, missing, dead);
        }
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
        List<TopicPartition> out = new ArrayList<>();
        for (PartitionInfo i : c.partitionsFor(topic)) {
            out.add(new TopicPartition(topic, i.partition()));
        }
        return out;
    }
}
