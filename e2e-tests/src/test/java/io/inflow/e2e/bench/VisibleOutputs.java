package io.inflow.e2e.bench;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

/**
 * A downstream consumer of {@code enriched} + {@code dlq} ({@code isolation.level=read_committed}, from the start) on
 * its own thread that only counts: when each output became visible to it (wall clock after the poll that returned
 * it) and, for outputs whose input was produced at or after {@link #measureLatencyFrom}, the produce-to-visible
 * latency (the output's Kafka timestamp is its input's CreateTime). It does not decode records, so it takes little
 * CPU from the pipeline; {@link OutputCheck} verifies the contents afterwards.
 *
 * <p>{@code try (VisibleOutputs v = VisibleOutputs.start(bootstrap, "enriched", "dlq")) { v.awaitCount(n, timeout); }}
 */
final class VisibleOutputs implements AutoCloseable {

    /** Polls return as soon as data is there; at most this long when there is none (bounds the timing error). */
    static final int FETCH_MAX_WAIT_MS = 10;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long count;
    private volatile Throwable failure;
    /** (wall ms, cumulative count) after each non-empty poll. */
    private final List<long[]> timeline = new ArrayList<>();
    private final List<Long> latencies = new ArrayList<>();
    volatile long measureLatencyFrom = Long.MAX_VALUE;

    private VisibleOutputs(KafkaConsumer<byte[], byte[]> consumer) {
        this.consumer = consumer;
        this.thread = new Thread(this::run, "bench-visible-outputs");
        this.thread.setDaemon(true);
    }

    static VisibleOutputs start(String bootstrap, String... topics) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", bootstrap);
        p.setProperty("group.id", "inflow-bench-" + UUID.randomUUID());
        p.setProperty("isolation.level", "read_committed");
        p.setProperty("auto.offset.reset", "earliest");
        p.setProperty("enable.auto.commit", "false");
        p.setProperty("fetch.max.wait.ms", Integer.toString(FETCH_MAX_WAIT_MS));
        p.setProperty("max.poll.records", "5000");
        VisibleOutputs v = new VisibleOutputs(new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer()));
        v.consumer.subscribe(List.of(topics));
        v.thread.start();
        return v;
    }

    private void run() {
        try {
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                if (records.isEmpty()) {
                    continue;
                }
                long now = System.currentTimeMillis();
                long from = measureLatencyFrom;
                synchronized (this) {
                    for (ConsumerRecord<byte[], byte[]> r : records) {
                        if (r.timestamp() >= from) {
                            latencies.add(now - r.timestamp());
                        }
                    }
                    count += records.count();
                    timeline.add(new long[] {now, count});
                }
            }
        } catch (org.apache.kafka.common.errors.WakeupException e) {
            // closing
        } catch (Throwable t) {
            failure = t;
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    long count() {
        check();
        return count;
    }

    /** Waits until {@code n} outputs are visible; false on timeout. */
    boolean awaitCount(long n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (count() < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return count() >= n;
    }

    synchronized List<long[]> timeline() {
        return new ArrayList<>(timeline);
    }

    synchronized long[] latencies() {
        return latencies.stream().mapToLong(Long::longValue).toArray();
    }

    private void check() {
        if (failure != null) {
            throw new IllegalStateException("the output consumer failed", failure);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(10_000);
    }
}
