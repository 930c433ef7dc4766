package io.inflow.jobs.demo;

import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * How many records the input topics hold now: the sum over their partitions of end offset minus beginning offset
 * (inputs are written without transactions, so every offset is a record). The demo's expected output count when it
 * resumes on topics that an earlier run (and perhaps kcat) filled.
 *
 * <p>{@code long n = InputCount.records("127.0.0.1:9092", List.of("events.text", "events.image"));}
 */
public final class InputCount {

    private InputCount() {
    }

    public static long records(String bootstrapServers, List<String> topics) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", bootstrapServers);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : topics) {
                for (PartitionInfo info : c.partitionsFor(topic, Duration.ofSeconds(30))) {
                    partitions.add(new TopicPartition(topic, info.partition()));
                }
            }
            Map<TopicPartition, Long> begin = c.beginningOffsets(partitions, Duration.ofSeconds(30));
            Map<TopicPartition, Long> end = c.endOffsets(partitions, Duration.ofSeconds(30));
            return partitions.stream().mapToLong(tp -> end.get(tp) - begin.get(tp)).sum();
        }
    }
}
