package io.inflow.sql;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.operators.embed.EncoderSpec;
import io.inflow.operators.metrics.InflowMetrics;

import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code CREATE MODEL ... 'provider' = 'inflow'} end to end with real parts: a Kafka broker, a JSON Kafka source
 * table of 52 texts (one NULL, one longer than the token limit), {@code INSERT INTO} a Kafka sink table from
 * {@code ML_PREDICT}, run by the planner on a local MiniCluster; the sink topic is read back and every embedding is
 * compared with {@link EncoderCompute} run directly on the same text.
 */
class MlPredictKafkaTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TEXTS = 50;
    private static final int MAX_TOKENS = 64;
    private static final int THREADS = 2;

    @Test
    void mlPredictEmbedsInBatchesAndMatchesTheEncoder() throws Exception {
        Map<Integer, String> texts = new HashMap<>();
        for (int i = 0; i < TEXTS; i++) {
            texts.put(i, "Event " + i + ": " + (i % 2 == 0 ? "a man is eating food number " + i
                    : "the quick brown fox jumps over " + i + " lazy dogs near the river bank"));
        }
        texts.put(TEXTS, "long ".repeat(200) + "text past the token limit");
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(null)) {
            String bootstrap = kafka.bootstrapServers();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic("events", 1, (short) 1),
                        new NewTopic("embeddings", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            produce(bootstrap, texts);

            Configuration conf = new Configuration();
            conf.setString("parallelism.default", "1");
            conf.setString("pipeline.name", "ml-predict-it");
            conf.setString("table.exec.async-ml-predict.max-concurrent-operations", "16");
            conf.setString("inflow.compute.threads", Integer.toString(THREADS));
            conf.setString("inflow.metrics.port", "0");
            TableEnvironment tEnv = TableEnvironment.create(
                    EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build());
            tEnv.executeSql("CREATE TABLE events (id INT, text STRING) WITH ('connector' = 'kafka',"
                    + " 'topic' = 'events', 'properties.bootstrap.servers' = '" + bootstrap + "',"
                    + " 'properties.group.id' = 'it', 'scan.startup.mode' = 'earliest-offset',"
                    + " 'scan.bounded.mode' = 'latest-offset', 'format' = 'json')");
            tEnv.executeSql("CREATE TABLE embeddings (id INT, embedding ARRAY<FLOAT>) WITH ('connector' = 'kafka',"
                    + " 'topic' = 'embeddings', 'properties.bootstrap.servers' = '" + bootstrap + "',"
                    + " 'format' = 'json')");
            tEnv.executeSql("CREATE MODEL embedder INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>) WITH ("
                    + " 'provider' = 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2',"
                    + " 'max-records' = '16', 'max-wait' = '200 ms', 'max-tokens' = '" + MAX_TOKENS + "')");
            long t0 = System.nanoTime();
            tEnv.executeSql("INSERT INTO embeddings SELECT id, embedding FROM ML_PREDICT(TABLE events,"
                    + " MODEL embedder, DESCRIPTOR(text))").await(5, TimeUnit.MINUTES);
            System.out.printf("job ran in %.1f s%n", (System.nanoTime() - t0) / 1e9);

            Map<Integer, JsonNode> out = consume(bootstrap, texts.size() + 1);
            assertThat(out).hasSize(texts.size() + 1);
            // NULL text: a NULL embedding, and the job went on
            assertThat(out.get(-1).get("embedding").isNull()).isTrue();
            compareWithEncoder(texts, out);
        }
        double[] sizes = batchSizes();
        System.out.printf("ml-predict batches: %.0f, rows %.0f, mean %.2f rows per batch%n", sizes[0], sizes[1],
                sizes[1] / sizes[0]);
        assertThat(sizes[1]).isEqualTo(texts.size()); // every non-NULL text went through a batch, once
        assertThat(sizes[1] / sizes[0]).isGreaterThan(1.0); // rows were really batched
        assertThat(counter("inflow_truncated_records_total")).isEqualTo(1.0); // the long text
        assertThat(counter("inflow_records_out_total")).isEqualTo(texts.size() + 1.0);
    }

    /**
     * Each embedding against {@link EncoderCompute} (the same spec the provider builds) on the text alone. Same
     * weights and kernels; only the batch shape differs (padding to the batch's longest text, the GEMM's row
     * blocking), which reorders float sums: on unit-length 384-wide vectors that moves elements by about 1e-7 to
     * 1e-6, so cosine > 0.99999 and max |diff| < 1e-5 hold, while another text (cosine below 0.95 here) or a wrong
     * pooling or truncation would not.
     */
    private static void compareWithEncoder(Map<Integer, String> texts, Map<Integer, JsonNode> out) throws Exception {
        EncoderCompute reference = new EncoderCompute(EncoderSpec.defaults(TextModel.ALL_MINILM_L6_V2, THREADS,
                MAX_TOKENS));
        reference.open();
        double worstCos = 1;
        double worstDiff = 0;
        try (RootAllocator alloc = new RootAllocator();
             TextTokenizer tok = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, MAX_TOKENS)) {
            for (Map.Entry<Integer, String> e : texts.entrySet()) {
                Tokenized t = tok.encode(e.getValue());
                float[] expected;
                try (TokenBatch batch = new TokenBatch(alloc, t.length(), 1)) {
                    batch.append(t.ids(), t.truncated());
                    expected = reference.compute(batch).row(0);
                }
                JsonNode got = out.get(e.getKey()).get("embedding");
                assertThat(got.size()).as("width of %s", e.getKey()).isEqualTo(384);
                double dot = 0;
                double nn = 0;
                double ee = 0;
                double diff = 0;
                for (int i = 0; i < expected.length; i++) {
                    float g = (float) got.get(i).asDouble();
                    dot += g * expected[i];
                    nn += g * g;
                    ee += expected[i] * expected[i];
                    diff = Math.max(diff, Math.abs(g - expected[i]));
                }
                double cos = dot / Math.sqrt(nn * ee);
                assertThat(cos).as("cosine of text %s", e.getKey()).isGreaterThan(0.99999);
                assertThat(diff).as("max abs diff of text %s", e.getKey()).isLessThan(1e-5);
                worstCos = Math.min(worstCos, cos);
                worstDiff = Math.max(worstDiff, diff);
            }
        } finally {
            reference.close();
        }
        System.out.printf("against EncoderCompute: worst cosine %.8f, worst max abs diff %.3g%n", worstCos, worstDiff);
    }

    private static void produce(String bootstrap, Map<Integer, String> texts) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (Map.Entry<Integer, String> e : texts.entrySet()) {
                ObjectNode row = JSON.createObjectNode().put("id", e.getKey()).put("text", e.getValue());
                producer.send(new ProducerRecord<>("events", row.toString())).get();
                if (e.getKey() == 20) { // a NULL text in the middle of the stream
                    producer.send(new ProducerRecord<>("events", "{\"id\": -1, \"text\": null}")).get();
                }
            }
        }
    }

    private static Map<Integer, JsonNode> consume(String bootstrap, int expected) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", "reader");
        p.put("auto.offset.reset", "earliest");
        Map<Integer, JsonNode> out = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of("embeddings"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    JsonNode row = JSON.readTree(r.value());
                    assertThat(out.put(row.get("id").asInt(), row)).as("duplicate id %s", row.get("id")).isNull();
                }
            }
        }
        return out;
    }

    /** {@code [batches, rows]} of {@code inflow_batch_size_records{operator="ml-predict"}}. */
    private static double[] batchSizes() {
        for (MetricSnapshot s : InflowMetrics.REGISTRY.scrape()) {
            if (s instanceof HistogramSnapshot h && h.getMetadata().getPrometheusName()
                    .equals("inflow_batch_size_records")) {
                for (HistogramSnapshot.HistogramDataPointSnapshot d : h.getDataPoints()) {
                    if (EmbeddingPredictFunction.OPERATOR.equals(d.getLabels().get(InflowMetrics.OPERATOR))) {
                        return new double[] {d.getCount(), d.getSum()};
                    }
                }
            }
        }
        throw new AssertionError("no inflow_batch_size_records series with operator=ml-predict");
    }

    private static double counter(String name) {
        for (MetricSnapshot s : InflowMetrics.REGISTRY.scrape()) {
            if (s instanceof CounterSnapshot c && (c.getMetadata().getPrometheusName() + "_total").equals(name)) {
                for (CounterSnapshot.CounterDataPointSnapshot d : c.getDataPoints()) {
                    if (EmbeddingPredictFunction.OPERATOR.equals(d.getLabels().get(InflowMetrics.OPERATOR))) {
                        return d.getValue();
                    }
                }
            }
        }
        throw new AssertionError("no " + name + " series with operator=ml-predict");
    }
}
