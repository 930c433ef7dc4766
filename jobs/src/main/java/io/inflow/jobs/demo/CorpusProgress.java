package io.inflow.jobs.demo;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Whether the index has applied the whole corpus topic: Flink commits the corpus source's offsets to its consumer
 * group when a checkpoint completes, and a completed checkpoint means every record before its barrier went through
 * the whole job, the index included. So the group's committed offsets at the topic's end mean "loaded".
 *
 * <p>{@code CorpusProgress.awaitApplied(bootstrap, "corpus", "inflow-text-corpus", Duration.ofMinutes(2));}
 */
public final class CorpusProgress {

    private CorpusProgress() {
    }

    /** Waits until {@code group} has committed the end offset of every partition of {@code topic}. */
    public static boolean awaitApplied(String bootstrap, String topic, String group, Duration timeout)
            throws Exception {
        Properties p = new Properties();
        p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(p)) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (var partition : admin.describeTopics(java.util.List.of(topic)).allTopicNames()
                    .get(30, TimeUnit.SECONDS).get(topic).partitions()) {
                latest.put(new TopicPartition(topic, partition.partition()), OffsetSpec.latest());
            }
            Map<TopicPartition, Long> end = new HashMap<>();
            admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> end.put(tp, info.offset()));
            while (System.nanoTime() < deadline) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                boolean done = end.entrySet().stream().allMatch(e -> e.getValue() == 0
                        || (committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() >= e.getValue()));
                if (done) {
                    return true;
                }
                Thread.sleep(250);
            }
            return false;
        }
    }
}
