package io.inflow.sql;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.operators.embed.EncoderSpec;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.operators.retrieval.IndexShard;
import io.inflow.operators.retrieval.IndexVersion;

import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code VECTOR_SEARCH} over an {@code inflow-index} table end to end with real parts: a Kafka broker, a compacted
 * corpus topic (2 partitions) of 120 text documents plus an update, a delete, a precomputed embedding and a record
 * that is not JSON, written with a Kafka producer; query texts from a Kafka JSON table embedded by
 * {@code ML_PREDICT} ({@code 'provider' = 'inflow'}); the planner runs the query on a local MiniCluster and the
 * answers are read back with {@code collect()}.
 *
 * <p>The reference is the DataStream retrieval code run directly: each final document embedded alone by
 * {@link EncoderCompute}, held in an {@link IndexShard} and searched with the CPU backend's retrieval kernels, with
 * the very query vector the SQL job searched with (it is selected next to the answers). Every top-10 must be the
 * same ids in the same order with scores within 1e-5: the only difference is the documents' batch shape (the index
 * embeds up to 32 texts per batch, the reference one at a time), which moves embedding elements by about 1e-7 (see
 * {@code MlPredictKafkaTest}), so cosines of unit vectors move by about 1e-7 too; float32 storage keeps that
 * difference from being amplified by a rounding step. A wrong metric, model, pooling or a missing document moves
 * scores by 1e-2 or more. Then two documents are deleted (a JSON delete and a tombstone) while the job runs, and
 * new queries must answer without them, again equal to the reference without them.
 */
class VectorSearchKafkaTest {

    private static final int THREADS = 2;
    private static final int K = 10;
    private static final TextModel MODEL = TextModel.ALL_MINILM_L6_V2;
    private static final String[] SUBJECTS = {"A golden retriever", "An old fisherman", "The chemistry teacher",
        "A hungry fox", "The orchestra", "A small bakery", "The football team", "A migrating goose",
        "The volcano", "A software engineer", "The city council", "A honeybee"};
    private static final String[] CONTEXTS = {"waits patiently beside the frozen lake at dawn",
        "prepares for the winter by storing food", "explains how salt dissolves in warm water",
        "is photographed during a violent thunderstorm", "celebrates a victory with loud music",
        "sells fresh bread and cinnamon rolls every morning", "argues about the budget for new roads",
        "travels thousands of kilometres across the ocean", "debugs a memory leak late at night",
        "collects nectar from bright yellow flowers"};
    private static final String[] QUERIES = {"a dog by the ice in the early morning", "baking pastries",
        "a bird flying south over the sea", "fixing a bug in a program", "a team wins the championship",
        "lava and an eruption", "bees and pollen", "politicians discussing money for streets",
        "The chemistry teacher explains how salt dissolves in warm water"};

    @Test
    void vectorSearchEqualsTheRetrievalIndexAndFollowsDeletes() throws Exception {
        long t0 = System.nanoTime();
        Map<String, String> texts = new TreeMap<>();
        for (int s = 0; s < SUBJECTS.length; s++) {
            for (int c = 0; c < CONTEXTS.length; c++) {
                texts.put(String.format("doc-%03d", s * CONTEXTS.length + c), SUBJECTS[s] + " " + CONTEXTS[c] + ".");
            }
        }
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(null);
             Reference reference = new Reference()) {
            String bootstrap = kafka.bootstrapServers();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic("corpus", 2, (short) 1)
                                .configs(Map.of("cleanup.policy", "compact")),
                        new NewTopic("queries", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            float[] pre = reference.embed("A dog is a domestic animal kept as a pet.");
            try (KafkaProducer<String, String> p = producer(bootstrap)) {
                for (Map.Entry<String, String> e : texts.entrySet()) {
                    send(p, "corpus", e.getKey(), upsert(e.getKey(), e.getValue()));
                }
                send(p, "corpus", "upd-1", upsert("upd-1", "A red tractor ploughs the muddy field."));
                send(p, "corpus", "upd-1", upsert("upd-1", "A goose lands on the frozen lake at dawn."));
                send(p, "corpus", "gone-1", upsert("gone-1", "A dog sleeps by the ice in the early morning."));
                send(p, "corpus", "gone-1", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"gone-1\",\"op\":\"delete\"}");
                send(p, "corpus", "bad-1", "this is not JSON");
                send(p, "corpus", "pre-1", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"pre-1\",\"op\":\"upsert\","
                        + "\"model\":\"" + MODEL.modelName() + "\",\"embedding\":" + json(pre) + "}");
            }
            texts.put("upd-1", "A goose lands on the frozen lake at dawn.");
            Map<String, float[]> corpus = new TreeMap<>();
            for (Map.Entry<String, String> e : texts.entrySet()) {
                corpus.put(e.getKey(), reference.embed(e.getValue()));
            }
            corpus.put("pre-1", pre);
            System.out.printf("corpus: %d documents (+ an update, a delete, a bad record) in %.1f s%n", corpus.size(),
                    (System.nanoTime() - t0) / 1e9);

            TableEnvironment tEnv = tableEnvironment();
            tEnv.executeSql("CREATE TABLE queries (id INT, qtext STRING) WITH ('connector' = 'kafka', 'topic' ="
                    + " 'queries', 'properties.bootstrap.servers' = '" + bootstrap + "', 'properties.group.id' = 'q',"
                    + " 'scan.startup.mode' = 'earliest-offset', 'format' = 'json')");
            tEnv.executeSql("CREATE MODEL embedder INPUT (qtext STRING) OUTPUT (qv ARRAY<FLOAT>) WITH ("
                    + " 'provider' = 'inflow', 'task' = 'text-embedding', 'model' = '" + MODEL.modelName() + "',"
                    + " 'max-wait' = '10 ms')");
            tEnv.executeSql("CREATE TABLE docs (doc_id STRING, embedding ARRAY<FLOAT>, text STRING) WITH ("
                    + " 'connector' = 'inflow-index', 'topic' = 'corpus', 'properties.bootstrap.servers' = '"
                    + bootstrap + "', 'model' = '" + MODEL.modelName() + "', 'metric' = 'cosine',"
                    + " 'storage' = 'float32', 'wait-for-corpus' = 'true')");
            tEnv.executeSql("CREATE TEMPORARY VIEW q AS SELECT id, qv FROM ML_PREDICT(TABLE queries, MODEL embedder,"
                    + " DESCRIPTOR(qtext))");
            TableResult result = tEnv.executeSql("SELECT q.id, q.qv, doc_id, text, score FROM q,"
                    + " LATERAL TABLE(VECTOR_SEARCH(TABLE docs, DESCRIPTOR(embedding), q.qv, " + K + "))");
            ExecutorService reader = Executors.newSingleThreadExecutor();
            BlockingQueue<Row> rows = new LinkedBlockingQueue<>();
            try (CloseableIterator<Row> it = result.collect()) {
                reader.submit(() -> {
                    while (it.hasNext()) {
                        rows.add(it.next());
                    }
                    return null;
                });
                try (KafkaProducer<String, String> p = producer(bootstrap)) {
                    for (int i = 0; i < QUERIES.length; i++) {
                        send(p, "queries", null, "{\"id\":" + i + ",\"qtext\":\"" + QUERIES[i] + "\"}");
                    }
                    Map<Integer, List<Row>> answers = take(rows, QUERIES.length * K);
                    int compared = compare(answers, corpus, texts, reference);
                    System.out.printf("phase 1: %d queries x top-%d equal to the reference (%.1f s)%n", compared, K,
                            (System.nanoTime() - t0) / 1e9);
                    // the search metrics count exactly these queries and rows, and the index's documents
                    String op = IndexSearchFunction.OPERATOR;
                    assertThat(SqlKafka.counter("inflow_records_in_total", op, Map.of())).as("queries searched")
                            .isEqualTo(QUERIES.length);
                    assertThat(SqlKafka.counter("inflow_records_out_total", op, Map.of())).as("rows answered")
                            .isEqualTo(QUERIES.length * K);
                    assertThat(SqlKafka.counter("inflow_dead_letters_total", op, Map.of())).as("rejected queries")
                            .isZero();
                    assertThat(indexDocuments()).as("inflow_index_documents of the corpus topic")
                            .isEqualTo(corpus.size());

                    // live deletes: the top answers of queries 0 and 1 leave the corpus while the job runs
                    String gone1 = answers.get(0).get(0).getFieldAs(2);
                    String gone2 = answers.get(1).get(0).getFieldAs(2);
                    send(p, "corpus", gone1, "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"" + gone1
                            + "\",\"op\":\"delete\"}");
                    send(p, "corpus", gone2, null); // a tombstone
                    corpus.remove(gone1);
                    corpus.remove(gone2);
                    Map<Integer, List<Row>> after = null;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    for (int round = 1; System.nanoTime() < deadline; round++) {
                        send(p, "queries", null, "{\"id\":" + (1000 * round) + ",\"qtext\":\"" + QUERIES[0] + "\"}");
                        send(p, "queries", null, "{\"id\":" + (1000 * round + 1) + ",\"qtext\":\"" + QUERIES[1]
                                + "\"}");
                        after = take(rows, 2 * K);
                        if (after.values().stream().flatMap(List::stream)
                                .noneMatch(r -> r.getField(2).equals(gone1) || r.getField(2).equals(gone2))) {
                            System.out.printf("deletes of %s and %s visible after %d round(s)%n", gone1, gone2, round);
                            break;
                        }
                        after = null;
                        Thread.sleep(200);
                    }
                    assertThat(after).as("answers without the deleted documents within 60 s").isNotNull();
                    compare(after, corpus, texts, reference);
                }
            } finally {
                reader.shutdownNow();
            }
        }
        System.out.printf("test ran in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /** {@code inflow_index_documents} of the process's shared index of topic {@code corpus}. */
    private static double indexDocuments() {
        for (MetricSnapshot s : InflowMetrics.REGISTRY.scrape()) {
            if (s instanceof GaugeSnapshot g && g.getMetadata().getPrometheusName().equals("inflow_index_documents")) {
                for (GaugeSnapshot.GaugeDataPointSnapshot d : g.getDataPoints()) {
                    if ("corpus".equals(d.getLabels().get("index"))
                            && IndexSearchFunction.SHARED_SHARD.equals(d.getLabels().get("shard"))) {
                        return d.getValue();
                    }
                }
            }
        }
        return -1;
    }

    private static TableEnvironment tableEnvironment() {
        Configuration conf = new Configuration();
        conf.setString("parallelism.default", "1");
        conf.setString("inflow.compute.threads", Integer.toString(THREADS));
        conf.setString("inflow.metrics.port", "0");
        return TableEnvironment.create(EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf)
                .build());
    }

    /** Each query's rows against the reference search with the same query vector; returns the queries compared. */
    private static int compare(Map<Integer, List<Row>> answers, Map<String, float[]> corpus, Map<String, String> texts,
            Reference reference) {
        double worst = 0;
        double minGap = Double.MAX_VALUE;
        for (Map.Entry<Integer, List<Row>> a : answers.entrySet()) {
            List<Row> got = a.getValue();
            Float[] boxed = got.get(0).getFieldAs(1);
            float[] q = new float[boxed.length];
            for (int i = 0; i < q.length; i++) {
                q[i] = boxed[i];
            }
            Reference.Answer want = reference.search(corpus, q, K);
            List<String> gotIds = got.stream().map(r -> (String) r.getFieldAs(2)).toList();
            assertThat(gotIds).as("top-%d of query %s", K, a.getKey()).containsExactlyElementsOf(want.ids());
            for (int i = 0; i < got.size(); i++) {
                double score = got.get(i).<Double>getFieldAs(4);
                assertThat(score).as("score %d of query %s", i, a.getKey()).isCloseTo(want.scores().get(i),
                        org.assertj.core.data.Offset.offset(1e-5));
                worst = Math.max(worst, Math.abs(score - want.scores().get(i)));
                if (i > 0) {
                    minGap = Math.min(minGap, want.scores().get(i - 1) - want.scores().get(i));
                }
                assertThat((String) got.get(i).getFieldAs(3)).as("text of %s", gotIds.get(i))
                        .isEqualTo(texts.get(gotIds.get(i))); // null for the precomputed document
            }
        }
        System.out.printf("  %d queries: worst |score diff| %.3g, smallest gap between neighbouring reference scores"
                + " %.3g%n", answers.size(), worst, minGap);
        return answers.size();
    }

    /** Takes {@code n} rows (60 s at most), grouped by query id in arrival order. */
    private static Map<Integer, List<Row>> take(BlockingQueue<Row> rows, int n) throws InterruptedException {
        Map<Integer, List<Row>> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            Row r = rows.poll(60, TimeUnit.SECONDS);
            assertThat(r).as("row %d of %d", i + 1, n).isNotNull();
            out.computeIfAbsent(r.getFieldAs(0), id -> new ArrayList<>()).add(r);
        }
        return out;
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static void send(KafkaProducer<String, String> p, String topic, String key, String value)
            throws Exception {
        p.send(new ProducerRecord<>(topic, key, value)).get();
    }

    private static String upsert(String id, String text) {
        return "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"" + id + "\",\"op\":\"upsert\",\"text\":\"" + text
                + "\"}";
    }

    private static String json(float[] v) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ",").append(v[i]);
        }
        return b.append(']').toString();
    }

    /** The DataStream retrieval code run directly: the encoder, an {@link IndexShard}, the CPU retrieval kernels. */
    private static final class Reference implements AutoCloseable {

        record Answer(List<String> ids, List<Double> scores) {
        }

        private final EncoderCompute encoder = new EncoderCompute(EncoderSpec.defaults(MODEL, THREADS, 256));
        private final RootAllocator alloc = new RootAllocator();
        private final TextTokenizer tokenizer = TextTokenizer.load(MODEL, 256);
        private final Backend backend = Backends.create(BackendKind.CPU, THREADS);

        Reference() throws Exception {
            encoder.open();
        }

        /** One text alone through the encoder, as the pipeline embeds a batch of one. */
        float[] embed(String text) throws Exception {
            Tokenized t = tokenizer.encode(text);
            try (TokenBatch batch = new TokenBatch(alloc, t.length(), 1)) {
                batch.append(t.ids(), t.truncated());
                return encoder.compute(batch).row(0);
            }
        }

        Answer search(Map<String, float[]> corpus, float[] query, int k) {
            IndexShard shard = new IndexShard(Storage.FLOAT32, MODEL.dimension(), 4096);
            long offset = 0;
            for (Map.Entry<String, float[]> d : new HashMap<>(corpus).entrySet()) {
                shard.upsert(d.getKey(), d.getValue(), null, 0, offset++);
            }
            IndexVersion v = shard.pin();
            TopK top = backend.retrieval().search(v.chunks(),
                    new SearchRequest(query, 1, MODEL.dimension(), k, Metric.COSINE, null));
            List<String> ids = new ArrayList<>();
            List<Double> scores = new ArrayList<>();
            for (int i = 0; i < top.hits(0); i++) {
                ids.add(v.docId(top.chunk(0, i), top.row(0, i)));
                scores.add((double) top.score(0, i));
            }
            return new Answer(ids, scores);
        }

        @Override
        public void close() throws Exception {
            backend.close();
            tokenizer.close();
            encoder.close();
            alloc.close();
        }
    }
}
