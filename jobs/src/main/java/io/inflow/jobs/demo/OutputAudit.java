package io.inflow.jobs.demo;

import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RecordCodec;
import io.inflow.schemas.RecordRejectedException;
import io.inflow.schemas.SourceRef;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Reads the pipeline's outputs ({@code enriched} and {@code dlq}) the way a downstream consumer of an exactly-once
 * pipeline must: {@code isolation.level=read_committed}, from the beginning. It indexes every output by the input
 * offset it came from, so it can tell whether each input produced exactly one output.
 *
 * <pre>{@code
 * try (OutputAudit audit = new OutputAudit(bootstrap, "enriched", "dlq")) {
 *     audit.awaitTotal(1212, Duration.ofMinutes(2), a -> System.out.println(a.summary()));
 *     assert audit.duplicates().isEmpty();
 * }
 * }</pre>
 */
public final class OutputAudit implements AutoCloseable {

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String enrichedTopic;
    private final List<EnrichedEvent> enriched = new ArrayList<>();
    private final List<DeadLetterRecord> deadLetters = new ArrayList<>();
    private final Map<String, Integer> outputsPerSource = new HashMap<>();
    private final List<String> unreadable = new ArrayList<>();
    /** Per partition, the offset after the last record read: where a reassigned partition resumes. */
    private final Map<TopicPartition, Long> nextOffsets = new HashMap<>();

    public OutputAudit(String bootstrapServers, String enrichedTopic, String deadLetterTopic) {
        this(props(bootstrapServers), enrichedTopic, deadLetterTopic);
    }

    private static Properties props(String bootstrapServers) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", bootstrapServers);
        return p;
    }

    /**
     * As {@link #OutputAudit(String, String, String)} with the client properties {@code client} (bootstrap.servers
     * and e.g. the security settings of a SASL_SSL cluster).
     */
    public OutputAudit(Properties client, String enrichedTopic, String deadLetterTopic) {
        this.enrichedTopic = enrichedTopic;
        Properties p = new Properties();
        p.putAll(client);
        p.setProperty("group.id", "inflow-audit-" + UUID.randomUUID());
        p.setProperty("isolation.level", "read_committed");
        p.setProperty("auto.offset.reset", "earliest");
        p.setProperty("enable.auto.commit", "false");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        // the audit commits nothing, so a rebalance (after a broker restart the group coordinator rebuilds the group)
        // would start every partition over from the beginning and count each output again: it resumes where it
        // read up to instead
        consumer.subscribe(List.of(enrichedTopic, deadLetterTopic), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                for (TopicPartition tp : partitions) {
                    Long next = nextOffsets.get(tp);
                    if (next != null) {
                        consumer.seek(tp, next);
                    }
                }
            }
        });
    }

    /** Reads whatever is committed now (one poll). */
    public void poll(Duration timeout) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            nextOffsets.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
            try {
                SourceRef source;
                if (r.topic().equals(enrichedTopic)) {
                    EnrichedEvent e = RecordCodec.decodeEnriched(r.value());
                    enriched.add(e);
                    source = e.source();
                } else {
                    DeadLetterRecord d = RecordCodec.decodeDeadLetter(r.value());
                    deadLetters.add(d);
                    source = d.source();
                }
                outputsPerSource.merge(key(source), 1, Integer::sum);
            } catch (RecordRejectedException e) {
                unreadable.add(r.topic() + "-" + r.partition() + "@" + r.offset() + ": " + e.getMessage());
            }
        }
    }

    /**
     * Polls until {@code total} outputs were read or the timeout passed, calling {@code progress} about once a
     * second.
     *
     * @return true when the total was reached
     */
    public boolean awaitTotal(int total, Duration timeout, Consumer<OutputAudit> progress) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long nextReport = 0;
        while (total() < total && System.nanoTime() < deadline) {
            poll(Duration.ofMillis(200));
            if (System.nanoTime() >= nextReport) {
                progress.accept(this);
                nextReport = System.nanoTime() + 1_000_000_000L;
            }
        }
        progress.accept(this);
        return total() >= total;
    }

    public int total() {
        return enriched.size() + deadLetters.size();
    }

    public List<EnrichedEvent> enriched() {
        return enriched;
    }

    public List<DeadLetterRecord> deadLetters() {
        return deadLetters;
    }

    /** Inputs (topic-partition@offset) that produced more than one output. */
    public List<String> duplicates() {
        return outputsPerSource.entrySet().stream().filter(e -> e.getValue() > 1)
                .map(e -> e.getKey() + " x" + e.getValue()).sorted().toList();
    }

    /** Whether the input at these coordinates produced an output. */
    public boolean hasOutputFor(String topic, int partition, long offset) {
        return outputsPerSource.containsKey(topic + "-" + partition + "@" + offset);
    }

    /** Number of distinct inputs that produced an output. */
    public int distinctSources() {
        return outputsPerSource.size();
    }

    /** Output records that could not be decoded (should always be empty). */
    public List<String> unreadable() {
        return unreadable;
    }

    public String summary() {
        return String.format("enriched %d, dead-lettered %d, distinct inputs %d", enriched.size(),
                deadLetters.size(), distinctSources());
    }

    private static String key(SourceRef s) {
        return s.topic() + "-" + s.partition() + "@" + s.offset();
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
