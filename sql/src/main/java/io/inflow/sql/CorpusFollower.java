package io.inflow.sql;

import io.inflow.operators.retrieval.CorpusChange;
import io.inflow.operators.retrieval.DecodeCorpusFunction;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.RecordRejectedException;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Feeds a {@link CorpusIndex} from the corpus topic: on a background thread it reads every partition from the
 * beginning and keeps following it, decodes each record with the DataStream pipeline's rules
 * ({@link DecodeCorpusFunction#decodeRecord}), embeds the text documents of each poll in batches with the pipeline's
 * encoder ({@link TextEmbedder}) and applies the changes in topic order. One per TaskManager and spec, shared by the
 * slots through {@code ProcessResources}.
 *
 * <p>Records the index cannot use never stop it: a record that does not decode, a text whose embedding fails or is
 * not finite, a precomputed embedding of the wrong width is skipped (logged, counted in {@link #rejected()}) and the
 * document keeps its previous version; an embedding of another model or an image document removes the id, as in
 * the pipeline's text index. A failure of the reader itself (topic missing, authentication) fails every search.
 *
 * <pre>{@code
 * try (CorpusFollower f = CorpusFollower.start(spec)) {
 *     f.awaitApplied(f.endOffsetsNow(), Duration.ofMinutes(1));
 *     f.index().search(query, 10);
 * }
 * }</pre>
 */
final class CorpusFollower implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CorpusFollower.class);
    /** Texts embedded together. */
    static final int EMBED_BATCH = 32;

    private final CorpusIndexSpec spec;
    private final CorpusIndex index;
    private final Thread thread;
    private final InputDecoder decoder = new InputDecoder(Limits.defaults());
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong applied = new AtomicLong();
    private final Map<Integer, Long> positions = new HashMap<>();
    private volatile boolean running = true;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private Throwable failure;

    private CorpusFollower(CorpusIndexSpec spec) {
        this.spec = spec;
        this.index = new CorpusIndex(spec);
        this.thread = new Thread(this::run, "inflow-corpus-" + spec.topic());
        thread.setDaemon(true);
        thread.setContextClassLoader(Thread.currentThread().getContextClassLoader());
    }

    /**
     * Starts reading on the background thread and returns at once: it runs inside {@code ProcessResources}' lock,
     * and the thread leases the shared encoder through that registry, so waiting for it here would deadlock. A
     * failure to load the encoder or to find the topic fails the searches ({@link #checkHealthy()}).
     */
    static CorpusFollower start(CorpusIndexSpec spec) {
        CorpusFollower f = new CorpusFollower(spec);
        f.thread.start();
        LOG.info("{}: reading from the beginning, searching on {}", spec, f.index.backend());
        return f;
    }

    CorpusIndex index() {
        return index;
    }

    /** Corpus records skipped (undecodable, unusable vector). */
    long rejected() {
        return rejected.get();
    }

    /** Corpus records applied to the index (upserts and deletes). */
    long appliedRecords() {
        return applied.get();
    }

    /** The corpus topic's end offsets now, per partition (a short-lived consumer of the same settings). */
    Map<Integer, Long> endOffsetsNow() {
        try (KafkaConsumer<byte[], byte[]> c = newConsumer()) {
            List<TopicPartition> parts = partitions(c);
            Map<Integer, Long> end = new HashMap<>();
            c.endOffsets(parts, Duration.ofSeconds(60)).forEach((tp, o) -> end.put(tp.partition(), o));
            return end;
        }
    }

    /**
     * Waits until the index has applied every partition up to {@code targets} (exclusive end offsets).
     *
     * @throws IOException when the reader failed or {@code timeout} ran out; the message says which
     */
    synchronized void awaitApplied(Map<Integer, Long> targets, Duration timeout) throws IOException,
            InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            checkHealthy();
            if (reached(targets)) {
                return;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException("'wait-for-corpus.timeout' (" + timeout + ") ran out before " + spec
                        + " applied the corpus up to its end offsets " + targets + "; applied so far: " + positions);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    /** Throws the reader's failure, if it failed. */
    synchronized void checkHealthy() throws IOException {
        if (failure != null) {
            throw new IOException("the corpus reader of " + spec + " failed: " + failure, failure);
        }
    }

    private boolean reached(Map<Integer, Long> targets) {
        for (Map.Entry<Integer, Long> t : targets.entrySet()) {
            Long at = positions.get(t.getKey());
            if (at == null || at < t.getValue()) {
                return false;
            }
        }
        return true;
    }

    private KafkaConsumer<byte[], byte[]> newConsumer() {
        Properties p = new Properties();
        p.putAll(spec.kafka());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "inflow-vector-search-" + spec.topic());
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c) {
        List<PartitionInfo> infos = c.partitionsFor(spec.topic(), Duration.ofSeconds(60));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("corpus topic '" + spec.topic() + "' does not exist at "
                    + spec.kafka().get("bootstrap.servers") + " ('topic' option)");
        }
        List<TopicPartition> parts = new ArrayList<>();
        for (PartitionInfo i : infos) {
            parts.add(new TopicPartition(i.topic(), i.partition()));
        }
        return parts;
    }

    private void run() {
        TextEmbedder embedder = null;
        try {
            embedder = TextEmbedder.open(spec.embedding(), "vector-search-" + spec.topic());
            try (KafkaConsumer<byte[], byte[]> c = newConsumer()) {
                consumer = c;
                List<TopicPartition> parts = partitions(c);
                c.assign(parts);
                c.seekToBeginning(parts);
                publish(c, parts);
                while (running) {
                    ConsumerRecords<byte[], byte[]> records = c.poll(Duration.ofMillis(200));
                    apply(records, embedder);
                    publish(c, parts);
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (Throwable t) {
            if (running) {
                LOG.error("corpus reader of {} failed; searches fail from now on", spec, t);
                synchronized (this) {
                    failure = t;
                    notifyAll();
                }
            }
        } finally {
            if (embedder != null) {
                try {
                    embedder.close();
                } catch (Exception e) {
                    LOG.warn("closing the corpus encoder of {}", spec, e);
                }
            }
        }
    }

    private void publish(KafkaConsumer<byte[], byte[]> c, List<TopicPartition> parts) {
        Map<Integer, Long> now = new HashMap<>();
        for (TopicPartition tp : parts) {
            now.put(tp.partition(), c.position(tp));
        }
        synchronized (this) {
            positions.putAll(now);
            notifyAll();
        }
    }

    /** Decodes one poll's records, embeds its texts in batches, applies everything in topic order. */
    private void apply(ConsumerRecords<byte[], byte[]> records, TextEmbedder embedder) {
        if (records.isEmpty()) {
            return;
        }
        List<RawRecord> raws = new ArrayList<>();
        List<CorpusChange> changes = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            RawRecord raw = new RawRecord(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value());
            CorpusChange change;
            try {
                change = DecodeCorpusFunction.decodeRecord(decoder, raw);
            } catch (RecordRejectedException | RuntimeException e) {
                skip(raw, "not a corpus record: " + e.getMessage());
                continue;
            }
            raws.add(raw);
            changes.add(change);
            if (change.upsert() != null) {
                texts.add(change.upsert().event().text());
            }
        }
        float[][] vectors = embed(embedder, texts);
        int t = 0;
        for (int i = 0; i < changes.size(); i++) {
            CorpusChange c = changes.get(i);
            RawRecord raw = raws.get(i);
            String id = c.docId();
            if (c.upsert() != null) {
                float[] v = vectors[t++];
                if (v == null) {
                    skip(raw, "document " + id + ": its text did not embed to a finite vector");
                } else {
                    index.upsert(id, v, c.upsert().event().text(), raw.partition(), raw.offset());
                    applied.incrementAndGet();
                }
            } else if (c.precomputed() != null) {
                applyPrecomputed(c.precomputed(), raw);
            } else {
                // a delete; an image document leaves the text index too (images are not searched from SQL)
                index.delete(id, raw.partition(), raw.offset());
                applied.incrementAndGet();
            }
        }
    }

    private void applyPrecomputed(CorpusChange.Precomputed p, RawRecord raw) {
        String model = spec.embedding().spec().model().modelName();
        if (!model.equals(p.model())) {
            index.delete(p.docId(), raw.partition(), raw.offset());
            skip(raw, "document " + p.docId() + " carries an embedding of model '" + p.model() + "', the index holds '"
                    + model + "' (the id is removed)");
        } else if (p.vector().length != spec.dim()) {
            skip(raw, "document " + p.docId() + ": embedding has " + p.vector().length + " values, the index holds "
                    + spec.dim());
        } else {
            index.upsert(p.docId(), p.vector(), null, raw.partition(), raw.offset());
            applied.incrementAndGet();
        }
    }

    private void skip(RawRecord raw, String reason) {
        rejected.incrementAndGet();
        index.applied(raw.partition(), raw.offset());
        LOG.warn("corpus record {}-{}@{} skipped: {}", raw.topic(), raw.partition(), raw.offset(), reason);
    }

    /** Embeddings of {@code texts} in batches; a failing batch is bisected, a text failing alone gets null. */
    private static float[][] embed(TextEmbedder embedder, List<String> texts) {
        float[][] out = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += EMBED_BATCH) {
            embedRange(embedder, texts, from, Math.min(texts.size(), from + EMBED_BATCH), out);
        }
        return out;
    }

    private static void embedRange(TextEmbedder embedder, List<String> texts, int from, int to, float[][] out) {
        try {
            float[][] rows = embedder.embed(texts.subList(from, to)).embeddings();
            System.arraycopy(rows, 0, out, from, rows.length);
        } catch (Exception e) {
            if (to - from == 1) {
                LOG.warn("embedding a corpus text failed", e);
                return;
            }
            int mid = (from + to) >>> 1;
            embedRange(embedder, texts, from, mid, out);
            embedRange(embedder, texts, mid, to, out);
        }
    }

    @Override
    public void close() throws Exception {
        running = false;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        thread.join(TimeUnit.SECONDS.toMillis(30));
        index.close();
        LOG.info("{}: closed after {} records applied, {} skipped", spec, applied.get(), rejected.get());
    }
}
