package io.inflow.e2e;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.operators.embed.EncoderSpec;

import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Flink's real SQL client through {@code ./inflow sql}'s launcher ({@code io.inflow.sqlclient.InflowSqlClient} as a
 * JVM of its own, which runs the local cluster and starts {@code org.apache.flink.table.client.SqlClient} as a
 * further JVM), non-interactive ({@code -f script.sql}) against a real broker: {@code CREATE TABLE} on two Kafka
 * topics (JSON), {@code CREATE MODEL ... 'provider' = 'inflow'}, {@code INSERT INTO ... ML_PREDICT(...)}. The output
 * topic is read back; every embedding is compared with the DataStream pipeline's {@link EncoderCompute} on the same
 * text, and the bad rows are checked against the provider's documented policy (sql/README.md, "Bad rows").
 */
class SqlClientTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_TOKENS = 64;
    private static final int THREADS = 2;
    /** The DataStream pipeline's text limit (bytes): the oversize row is above it. */
    private static final int TEXT_LIMIT_BYTES = 65_536;

    @Test
    void sqlClientScriptEmbedsThroughTheInflowProvider(@TempDir Path dir) throws Exception {
        Map<String, String> texts = new LinkedHashMap<>();
        String[] sentences = {"A man is eating food.", "A man is eating a piece of bread.",
            "The quick brown fox jumps over the lazy dog.", "Kafka topics feed the Flink job.",
            "Ein Mann isst ein Stück Brot.", "Un homme mange du pain.", "Embeddings in SQL 🚀",
            "GPU kernels have a CPU twin.", "Short.", "Streaming inference with Apache Arrow batches.",
            "WINNER!! You have won a 1000 cash prize. Call now to claim"};
        for (int i = 0; i < sentences.length; i++) {
            texts.put("good-" + i, sentences[i]);
        }
        String oversize = "word ".repeat(14_000); // 70,000 bytes
        assertThat(oversize.getBytes(StandardCharsets.UTF_8).length).isGreaterThan(TEXT_LIMIT_BYTES);

        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(null)) {
            String bootstrap = kafka.bootstrapServers();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic("sql.events", 1, (short) 1),
                        new NewTopic("sql.vectors", 1, (short) 1), new NewTopic("sql.labels", 1, (short) 1)))
                        .all().get(30, TimeUnit.SECONDS);
            }
            List<String> records = new ArrayList<>();
            int seq = 0;
            for (Map.Entry<String, String> e : texts.entrySet()) {
                records.add(JSON.createObjectNode().put("id", e.getKey()).put("seq", seq++).put("text", e.getValue())
                        .toString());
            }
            records.add("{\"id\": \"null-text\", \"seq\": 100, \"text\": null}");
            records.add(JSON.createObjectNode().put("id", "oversize").put("seq", 101).put("text", oversize)
                    .toString());
            records.add("{\"id\": \"seq-not-a-number\", \"seq\": \"one hundred\", \"text\": \"A man is eating food.\"}");
            records.add("{\"id\": \"text-is-a-number\", \"seq\": 103, \"text\": 12345}");
            records.add("not JSON at all");
            produce(bootstrap, records);

            Path script = dir.resolve("embed.sql");
            Files.writeString(script, """
                    SET 'table.dml-sync' = 'true';
                    CREATE TABLE texts (id STRING, seq INT, text STRING) WITH (
                      'connector' = 'kafka', 'topic' = 'sql.events', 'properties.bootstrap.servers' = '%1$s',
                      'properties.group.id' = 'sql-client-test', 'scan.startup.mode' = 'earliest-offset',
                      'scan.bounded.mode' = 'latest-offset', 'format' = 'json', 'json.ignore-parse-errors' = 'true');
                    CREATE TABLE vectors (id STRING, seq INT, embedding ARRAY<FLOAT>) WITH (
                      'connector' = 'kafka', 'topic' = 'sql.vectors', 'properties.bootstrap.servers' = '%1$s',
                      'format' = 'json');
                    CREATE MODEL encoder INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>) WITH (
                      'provider' = 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2',
                      'max-tokens' = '%2$d', 'max-wait' = '100 ms');
                    INSERT INTO vectors SELECT id, seq, embedding FROM ML_PREDICT(TABLE texts, MODEL encoder, DESCRIPTOR(text));
                    CREATE TABLE labels (id STRING, label STRING, score FLOAT) WITH (
                      'connector' = 'kafka', 'topic' = 'sql.labels', 'properties.bootstrap.servers' = '%1$s',
                      'format' = 'json');
                    -- MODEL spam comes from ./inflow sql's init script
                    INSERT INTO labels SELECT id, label, score FROM ML_PREDICT(TABLE texts, MODEL spam, DESCRIPTOR(text));
                    """.formatted(bootstrap, MAX_TOKENS));

            Path log = dir.resolve("inflow-sql.out");
            long t0 = System.nanoTime();
            int rc = runLauncher(dir, log, "--bootstrap-servers", bootstrap, "-f", "embed.sql",
                    "-Dinflow.compute.threads=" + THREADS, "-Dinflow.metrics.port=0");
            String output = Files.readString(log);
            System.out.printf("./inflow sql -f ran in %.1f s%n%s%n", (System.nanoTime() - t0) / 1e9,
                    output.length() > 4000 ? output.substring(output.length() - 4000) : output);
            assertThat(rc).as("exit code of ./inflow sql -f; output:%n%s", output).isZero();
            assertThat(output).contains("Complete execution of the SQL update statement").doesNotContain("[ERROR]");

            Map<String, JsonNode> out = consume(bootstrap, "sql.vectors", texts.size() + 4);
            System.out.println("output ids: " + new TreeMap<>(out).keySet());
            // every good row, NULL text, the oversize text and both wrong-typed rows came out once; the record that
            // is not JSON was skipped by the format ('json.ignore-parse-errors'), not by the model
            assertThat(out.keySet()).containsExactlyInAnyOrderElementsOf(concat(texts.keySet(),
                    List.of("null-text", "oversize", "seq-not-a-number", "text-is-a-number")));
            // provider policy: a NULL text gets a NULL embedding, and the job goes on
            assertThat(out.get("null-text").get("embedding").isNull()).isTrue();
            // a field of the wrong type is NULL (the JSON format's 'ignore-parse-errors'); the text still embeds
            assertThat(out.get("seq-not-a-number").get("seq").isNull()).isTrue();
            // the JSON format reads a number into a STRING column as its text: "12345" is embedded
            Map<String, String> expected = new LinkedHashMap<>(texts);
            expected.put("oversize", oversize); // truncated to max-tokens by the tokenizer, as in the pipeline
            expected.put("seq-not-a-number", "A man is eating food.");
            expected.put("text-is-a-number", "12345");
            compareWithEncoder(expected, out);

            // the init script's scorer over the same rows: every row once, a top label of two and its probability
            Map<String, JsonNode> labels = consume(bootstrap, "sql.labels", texts.size() + 4);
            assertThat(labels.keySet()).isEqualTo(out.keySet());
            assertThat(labels.get("null-text").get("label").isNull()).as("NULL text, NULL label").isTrue();
            for (Map.Entry<String, JsonNode> e : labels.entrySet()) {
                if (!e.getKey().equals("null-text")) {
                    assertThat(e.getValue().get("label").asText()).as("label of %s", e.getKey()).isIn("spam", "ham");
                    assertThat(e.getValue().get("score").asDouble()).as("top probability of %s", e.getKey())
                            .isBetween(0.5, 1.0);
                }
            }
            // the scorer tells them apart (MlPredictClassificationKafkaTest compares every score with TextScorer)
            assertThat(labels.get("good-10").get("label").asText()).as("the prize text").isEqualTo("spam");
            assertThat(labels.get("good-0").get("label").asText()).as("A man is eating food.").isEqualTo("ham");
        }
    }

    /**
     * Each embedding against {@link EncoderCompute} (the DataStream pipeline's compute, same model, pooling,
     * normalisation and token limit) on the text alone: same weights and kernels, only the batch shape differs
     * (padding to the longest text of the batch, the GEMM's row blocking), which reorders float sums and moves
     * elements of these unit vectors by about 1e-7..1e-6. Cosine > 0.99999 holds for that and fails for another
     * text, pooling or truncation (cosines below 0.95 here).
     */
    static void compareWithEncoder(Map<String, String> texts, Map<String, JsonNode> out) throws Exception {
        EncoderCompute reference = new EncoderCompute(EncoderSpec.defaults(TextModel.ALL_MINILM_L6_V2, THREADS,
                MAX_TOKENS));
        reference.open();
        double worst = 1;
        try (RootAllocator alloc = new RootAllocator();
             TextTokenizer tok = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, MAX_TOKENS)) {
            for (Map.Entry<String, String> e : texts.entrySet()) {
                Tokenized t = tok.encode(e.getValue());
                float[] want;
                try (TokenBatch batch = new TokenBatch(alloc, t.length(), 1)) {
                    batch.append(t.ids(), t.truncated());
                    want = reference.compute(batch).row(0);
                }
                JsonNode got = out.get(e.getKey()).get("embedding");
                assertThat(got.size()).as("width of %s", e.getKey()).isEqualTo(384);
                double dot = 0;
                double gg = 0;
                double ww = 0;
                for (int i = 0; i < want.length; i++) {
                    double g = got.get(i).asDouble();
                    dot += g * want[i];
                    gg += g * g;
                    ww += (double) want[i] * want[i];
                }
                double cos = dot / Math.sqrt(gg * ww);
                assertThat(cos).as("cosine of %s against EncoderCompute", e.getKey()).isGreaterThan(0.99999);
                worst = Math.min(worst, cos);
            }
        } finally {
            reference.close();
        }
        System.out.printf("%d embeddings against EncoderCompute: worst cosine %.8f%n", texts.size(), worst);
    }

    /** {@code ./inflow sql ARGS} as the script runs it: the launcher's main class, its JVM flags, in {@code cwd}. */
    static int runLauncher(Path cwd, Path log, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx1500m");
        cmd.add("-Dinflow.cwd=" + cwd);
        cmd.add("-cp");
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.add("io.inflow.sqlclient.InflowSqlClient");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        Thread kill = new Thread(p::destroyForcibly);
        Runtime.getRuntime().addShutdownHook(kill);
        try {
            if (!p.waitFor(150, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError("./inflow sql -f did not end within 150 s:\n" + Files.readString(log));
            }
            return p.exitValue();
        } finally {
            Runtime.getRuntime().removeShutdownHook(kill);
        }
    }

    private static void produce(String bootstrap, List<String> records) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (String r : records) {
                producer.send(new ProducerRecord<>("sql.events", r)).get();
            }
        }
    }

    private static Map<String, JsonNode> consume(String bootstrap, String topic, int expected) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", "reader");
        p.put("auto.offset.reset", "earliest");
        Map<String, JsonNode> out = new TreeMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            // read until the expected rows are there, then a little longer: a duplicate or extra row must show
            long quietUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, quietUntil)) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    JsonNode row = JSON.readTree(r.value());
                    assertThat(out.put(row.get("id").asText(), row)).as("duplicate id %s", row.get("id")).isNull();
                }
                if (out.size() >= expected && quietUntil == Long.MAX_VALUE) {
                    quietUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                }
            }
        }
        return out;
    }

    private static List<String> concat(java.util.Collection<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
