package io.inflow.e2e;

import io.inflow.schemas.RecordCodec;
import io.inflow.schemas.TextEvent;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A steady stream of text events (every 1,000th one malformed, so {@code dlq} is part of the count) produced at a
 * fixed rate on a background thread, so faults can be injected while input is still arriving. A stream may hold
 * back its tail until {@link #release()}: on a loaded machine the faults then still land mid-stream, however long
 * the restarts take.
 *
 * <p>{@code try (StreamProducer s = StreamProducer.start(bootstrap, "events.text", "ev", 20_000, 250)) { s.awaitLanded(); }}
 */
final class StreamProducer implements AutoCloseable {

    private final Thread thread;
    private final AtomicInteger sent = new AtomicInteger();
    private final int count;
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile int holdAt = Integer.MAX_VALUE;
    /** Events to produce; {@link #finish()} lowers it to what was sent. */
    private volatile int limit;
    private volatile java.util.function.IntFunction<String> texts = i -> "Event number " + i
            + " of a steady stream: the quick brown fox jumps over the lazy dog.";
    private volatile List<RecordMetadata> landed;
    private volatile Throwable failure;

    private StreamProducer(int count, Runnable body) {
        this.count = count;
        this.limit = count;
        this.thread = new Thread(body, "stream-producer");
    }

    /**
     * Starts producing {@code count} events with ids {@code <prefix>-<n>} at {@code perSecond} (0: at once), holding
     * before event {@code holdAt} until {@link #release()}.
     */
    static StreamProducer start(String bootstrap, String topic, String prefix, int count, int perSecond,
            int holdAt) {
        StreamProducer[] self = new StreamProducer[1];
        self[0] = new StreamProducer(count, () -> self[0].produce(bootstrap, topic, prefix, perSecond));
        self[0].holdAt = holdAt;
        self[0].thread.setDaemon(true);
        self[0].thread.start();
        return self[0];
    }

    /** Ends the stream now: what was sent is all there is ({@link #awaitLanded()} returns it). */
    void finish() {
        limit = Math.min(limit, sent.get());
        released.countDown();
    }

    /** Lets a held stream go on. */
    void release() {
        released.countDown();
    }

    /**
     * As {@link #start(String, String, String, int, int, int)}, event {@code n} carrying {@code texts.apply(n)}
     * (still every 1,000th malformed).
     */
    static StreamProducer start(String bootstrap, String topic, String prefix, int count, int perSecond,
            int holdAt, java.util.function.IntFunction<String> texts) {
        StreamProducer[] self = new StreamProducer[1];
        self[0] = new StreamProducer(count, () -> self[0].produce(bootstrap, topic, prefix, perSecond));
        self[0].holdAt = holdAt;
        self[0].texts = texts;
        self[0].thread.setDaemon(true);
        self[0].thread.start();
        return self[0];
    }

    /** Starts producing {@code count} events with ids {@code <prefix>-<n>} at {@code perSecond} (0: at once). */
    static StreamProducer start(String bootstrap, String topic, String prefix, int count, int perSecond) {
        StreamProducer[] self = new StreamProducer[1];
        self[0] = new StreamProducer(count, () -> self[0].produce(bootstrap, topic, prefix, perSecond));
        self[0].thread.setDaemon(true);
        self[0].thread.start();
        return self[0];
    }

    private void produce(String bootstrap, String topic, String prefix, int perSecond) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", bootstrap);
        p.setProperty("acks", "all");
        p.setProperty("enable.idempotence", "true");
        p.setProperty("linger.ms", "5");
        List<Future<RecordMetadata>> futures = new ArrayList<>(count);
        long t0 = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < limit; i++) {
                if (i == holdAt) {
                    producer.flush();
                    released.await();
                    t0 = System.nanoTime() - (long) i * 1_000_000_000L / Math.max(1, perSecond);
                }
                String id = prefix + "-" + i;
                byte[] value = i % 1000 == 999 ? "{not json".getBytes(StandardCharsets.UTF_8)
                        : RecordCodec.encode(new TextEvent(id, texts.apply(i), "en", null, Map.of()));
                futures.add(producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), value)));
                sent.incrementAndGet();
                if (perSecond > 0) {
                    long due = t0 + (long) (i + 1) * 1_000_000_000L / perSecond;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                }
            }
            producer.flush();
            List<RecordMetadata> out = new ArrayList<>(count);
            for (Future<RecordMetadata> f : futures) {
                out.add(f.get(30, TimeUnit.SECONDS));
            }
            landed = out;
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** Records handed to the producer so far. */
    int sent() {
        return sent.get();
    }

    boolean done() {
        return !thread.isAlive();
    }

    /** Waits for the end of the stream; where every record landed, in order. */
    List<RecordMetadata> awaitLanded() throws InterruptedException {
        thread.join(TimeUnit.MINUTES.toMillis(5));
        if (failure != null) {
            throw new AssertionError("producing failed", failure);
        }
        if (landed == null) {
            throw new AssertionError("the producer did not finish (" + sent() + " of " + count + " sent)");
        }
        return landed;
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
