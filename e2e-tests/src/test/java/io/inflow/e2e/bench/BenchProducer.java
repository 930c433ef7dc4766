package io.inflow.e2e.bench;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes {@link BenchTexts} events to the input topic: all at once before the job starts (throughput runs), or at a
 * fixed rate on a background thread (latency runs). Each record's Kafka timestamp is its send time (CreateTime), which
 * the pipeline carries to the enriched record: the consumer's "visible at" minus it is produce-to-visible latency.
 *
 * <p>{@code BenchProducer.preload(bootstrap, "b1.text", texts, 0, 6000);}
 */
final class BenchProducer {

    private BenchProducer() {
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", bootstrap);
        p.setProperty("acks", "all");
        p.setProperty("enable.idempotence", "true");
        p.setProperty("linger.ms", "5");
        p.setProperty("compression.type", "lz4");
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Produces events {@code from .. from+count-1} and waits until all are acknowledged. */
    static void preload(String bootstrap, String topic, BenchTexts texts, int from, int count) throws Exception {
        AtomicReference<Exception> failed = new AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap)) {
            for (int i = from; i < from + count; i++) {
                producer.send(new ProducerRecord<>(topic, texts.key(i), texts.value(i)), (m, e) -> {
                    if (e != null) {
                        failed.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
        }
        if (failed.get() != null) {
            throw new IllegalStateException("preloading " + topic + " failed", failed.get());
        }
    }

    /** A paced producer on its own thread: {@code perSecond} events for {@code count} events. */
    static Thread paced(String bootstrap, String topic, BenchTexts texts, int from, int count, double perSecond,
            AtomicReference<Throwable> failure) {
        Thread t = new Thread(() -> {
            try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap)) {
                long t0 = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    long due = t0 + (long) (i * 1e9 / perSecond);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    producer.send(new ProducerRecord<>(topic, texts.key(from + i), texts.value(from + i)), (m, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e);
                        }
                    });
                }
                producer.flush();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, "bench-producer");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
