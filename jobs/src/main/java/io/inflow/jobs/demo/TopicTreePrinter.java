package io.inflow.jobs.demo;

import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RecordCodec;
import io.inflow.schemas.RecordRejectedException;
import io.inflow.schemas.TopicTreeRecord;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The demo's topic trees: the latest committed tree of every tenant and modality on the {@code topics} topic, printed
 * as an indented tree (flat topics marked {@code *}, each node with its size, the radius at which it splits off and the
 * text of its densest member), and how many enriched events carry each flat topic.
 *
 * <p>{@code new TopicTreePrinter(System.out).print("127.0.0.1:9092", "topics", audit);}
 */
final class TopicTreePrinter {

    /** How long the printer waits for the trees to settle (the last rebuild commits at the next checkpoint). */
    static final Duration SETTLE = Duration.ofSeconds(20);
    /** Empty polls of 500 ms in a row after which the trees count as settled (a rebuild plus a checkpoint). */
    static final int QUIET_POLLS = 16;

    private final PrintStream out;

    TopicTreePrinter(PrintStream out) {
        this.out = out;
    }

    void print(String bootstrap, String topic, OutputAudit audit) {
        Map<String, TopicTreeRecord> latest = read(bootstrap, topic);
        Map<Integer, Integer> events = new HashMap<>();
        long withTopic = 0;
        long noise = 0;
        for (EnrichedEvent e : audit.enriched()) {
            if (e.topic() != null && !e.topic().path().isEmpty()) {
                withTopic++;
                if (e.topic().id() == null) {
                    noise++;
                } else {
                    events.merge(e.topic().id(), 1, Integer::sum);
                }
            }
        }
        out.println();
        out.printf("== topic trees on %s: %d (latest per tenant|modality); %d events assigned on arrival, %d of them"
                + " noise ==%n", topic, latest.size(), withTopic, noise);
        for (TopicTreeRecord t : latest.values()) {
            out.printf("  %s, version %d: %d events, %.0f%% noise, churn %.0f%% since the previous tree%n", t.key(),
                    t.treeVersion(), t.nodes().get(0).size(), 100 * (t.noiseShare() == null ? 0 : t.noiseShare()),
                    100 * (t.churn() == null ? 0 : t.churn()));
            Map<Integer, List<TopicTreeRecord.Node>> children = new HashMap<>();
            TopicTreeRecord.Node root = null;
            for (TopicTreeRecord.Node n : t.nodes()) {
                if (n.parent() == TopicTreeRecord.NO_PARENT) {
                    root = n;
                } else {
                    children.computeIfAbsent(n.parent(), k -> new ArrayList<>()).add(n);
                }
            }
            printNode(root, children, events, 2);
            t.changes().forEach(c -> out.printf("    %s topic %d%s%n", c.kind(), c.topic(),
                    c.from().isEmpty() ? "" : " from " + c.from()));
        }
    }

    private void printNode(TopicTreeRecord.Node n, Map<Integer, List<TopicTreeRecord.Node>> children,
            Map<Integer, Integer> events, int depth) {
        String text = n.label() == null ? "" : n.label().replaceAll("\\s+", " ");
        if (text.length() > 70) {
            text = text.substring(0, 67) + "...";
        }
        out.printf("%s%s topic %d: %d events%s%s  \"%s\"%n", "  ".repeat(depth),
                Boolean.TRUE.equals(n.selected()) ? "*" : "-", n.id(), n.size(),
                n.lambda() > 0 ? String.format(", radius %.3f", 1 / n.lambda()) : " (root)",
                Boolean.TRUE.equals(n.selected()) ? ", " + events.getOrDefault(n.id(), 0) + " labelled" : "", text);
        for (TopicTreeRecord.Node c : children.getOrDefault(n.id(), List.of())) {
            printNode(c, children, events, depth + 1);
        }
    }

    /** The latest committed tree per key, read until nothing new came for a few polls (at most {@link #SETTLE}). */
    private static Map<String, TopicTreeRecord> read(String bootstrap, String topic) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", bootstrap);
        p.setProperty("group.id", "inflow-demo-topics-" + System.nanoTime());
        p.setProperty("isolation.level", "read_committed");
        p.setProperty("auto.offset.reset", "earliest");
        p.setProperty("enable.auto.commit", "false");
        Map<String, TopicTreeRecord> latest = new TreeMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + SETTLE.toNanos();
            int quiet = 0;
            while (System.nanoTime() < deadline && quiet < QUIET_POLLS) {
                int got = 0;
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    got++;
                    try {
                        TopicTreeRecord t = RecordCodec.decodeTopicTree(r.value());
                        String key = t.key() == null ? t.treeId() : t.key();
                        TopicTreeRecord before = latest.get(key);
                        if (before == null || before.treeVersion() < t.treeVersion()) {
                            latest.put(key, t);
                        }
                    } catch (RecordRejectedException e) {
                        // not a topic tree of this contract: skip it
                    }
                }
                quiet = got == 0 && !latest.isEmpty() ? quiet + 1 : 0;
            }
        }
        return latest;
    }
}
