package io.inflow.e2e;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.demo.SampleData;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RecordCodec;

import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Secured Kafka: a real KRaft broker whose only client listener is SASL_SSL (SCRAM-SHA-512 over TLS, certificates
 * made by the test), and {@code ./inflow run} as its own process configured with
 * {@code -Dinflow.kafka.properties.*} alone. Its admin checks, text source and transactional enriched / dead-letter
 * sinks all log in; inputs produced with a SASL_SSL Java producer each come out once
 * in {@code enriched} or {@code dlq} ({@code read_committed}). The SCRAM password appears in no log line of the
 * run (Flink, Kafka clients and Inflow at INFO), no metric of either Prometheus endpoint, no output record and none
 * of the web UI's configuration views. Negative controls: a wrong password and a missing JAAS login fail at start,
 * naming the setting.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class SecuredKafkaTest {

    private static final Duration WAIT = Duration.ofMinutes(3);
    private static final String P = KafkaOptions.PROPERTIES_PREFIX;

    private Path dir;
    private String secret;
    private TestCertificates certs;
    private EmbeddedKafkaBroker kafka;
    private KafkaSettings settings;
    private PipelineProcess run;
    private OutputAudit audit;
    private final List<RecordMetadata> landed = new ArrayList<>();
    private int inputs;
    private String jobId;
    private Map<String, String> urls;

    @BeforeAll
    void startSecuredBrokerAndPipeline() throws Exception {
        dir = Path.of("target", "secured-kafka").toAbsolutePath();
        if (Files.exists(dir)) {
            try (Stream<Path> old = Files.walk(dir)) {
                old.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        Files.createDirectories(dir);
        secret = "Sx" + random(12);
        certs = TestCertificates.create(dir.resolve("tls"), random(8));
        kafka = EmbeddedKafkaBroker.start(null, new EmbeddedKafkaBroker.SaslSsl(certs.brokerKeyStore(),
                certs.password(), certs.trustStore(), certs.password(), Map.of("inflow", secret)));

        // the topics, created through a SASL_SSL admin client from the same keys the process gets
        Configuration conf = new Configuration();
        conf.setString(KafkaOptions.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers());
        securityKeys(secret).forEach(conf::setString);
        settings = KafkaOptions.settings(conf);
        TopicAdmin.ensureTopics(settings, PipelineUnderTest.PARTITIONS, (short) 1);

        run = start("ok", secret);
        String started = awaitLog(run, "running ");
        Matcher m = Pattern.compile("\\(job ([0-9a-f]{32})\\).*web UI (http://\\S+), metrics (http://\\S+) \\(Flink's:"
                + " (http://\\S+)\\)").matcher(started);
        assertThat(m.find()).as("the run's start line:\n%s", started).isTrue();
        jobId = m.group(1);
        urls = Map.of("ui", m.group(2), "inflow", m.group(3), "flink", m.group(4));

        // inputs: the bundled sample's texts and malformed records, plus one good and one malformed text
        List<byte[][]> records = new ArrayList<>();
        for (SampleData.Record r : SampleData.load().mixed().subList(0, 300)) {
            records.add(new byte[][] {PipelineUnderTest.utf8(r.key()), r.value()});
        }
        landed.addAll(produce(records));
        inputs = landed.size();
        // kcat is not used here: Debian 12's kcat (librdkafka 2.0.2) fails SCRAM against this broker (both
        // SHA-256 and SHA-512: "invalid credentials") while Java clients with the same password log in
        landed.addAll(produce(List.of(
                new byte[][] {PipelineUnderTest.utf8("java-1"), PipelineUnderTest.utf8("{\"type\":\"text\","
                        + "\"version\":1,\"id\":\"java-1\",\"text\":\"Produced over SASL_SSL.\"}")},
                new byte[][] {PipelineUnderTest.utf8("java-2"), PipelineUnderTest.utf8("{not json")})));
        inputs = landed.size();

        audit = new OutputAudit(settings.clientProperties(), settings.topics().enriched(),
                settings.topics().deadLetter());
        assertThat(audit.awaitTotal(inputs, WAIT, a -> { }))
                .as("all %d inputs come out within %s (%s); log:\n%s", inputs, WAIT, audit.summary(), tail(run))
                .isTrue();
        audit.poll(Duration.ofSeconds(3));
    }

    @AfterAll
    void stop() throws Exception {
        if (audit != null) {
            audit.close();
        }
        if (run != null) {
            run.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void everyInputComesOutExactlyOnceOverSaslSsl() {
        assertThat(audit.unreadable()).isEmpty();
        assertThat(audit.duplicates()).isEmpty();
        assertThat(audit.total()).isEqualTo(inputs);
        assertThat(audit.distinctSources()).isEqualTo(inputs);
        for (RecordMetadata r : landed) {
            assertThat(audit.hasOutputFor(r.topic(), r.partition(), r.offset())).as("%s", r).isTrue();
        }
        assertThat(audit.enriched()).extracting(EnrichedEvent::id).contains("java-1");
        assertThat(audit.deadLetters()).as("the sample's malformed records and one more").hasSizeGreaterThan(1);
    }

    @Test
    void thePasswordIsInNoLogLineOfTheRun() {
        String log = run.log();
        assertThat(log).as("the run logs Kafka's client configurations (INFO), with the login hidden")
                .contains("sasl.jaas.config = [hidden]", "ssl.truststore.password = [hidden]");
        assertThat(log.lines().filter(l -> l.contains(secret)).toList()).isEmpty();
    }

    @Test
    void thePasswordIsInNoMetric() throws Exception {
        String inflow = MetricsScrape.get(urls.get("inflow"));
        String flink = MetricsScrape.get(urls.get("flink"));
        assertThat(inflow).contains("inflow_records_in_total{").doesNotContain(secret);
        assertThat(flink).as("Flink's reporter, with the Kafka clients' metrics")
                .contains("KafkaSourceReader", "flink_taskmanager_job_task_operator_pendingRecords{")
                .doesNotContain(secret);
    }

    @Test
    void thePasswordIsInNoOutputRecord() {
        for (DeadLetterRecord d : audit.deadLetters()) {
            assertThat(new String(RecordCodec.encode(d), StandardCharsets.UTF_8)).doesNotContain(secret);
        }
        for (EnrichedEvent e : audit.enriched()) {
            assertThat(e.toString()).doesNotContain(secret);
        }
    }

    @Test
    void theWebUiShowsTheSecuritySettingsMasked() throws Exception {
        Map<String, String> views = new LinkedHashMap<>();
        for (String path : List.of("/jobmanager/config", "/jobs/" + jobId + "/config",
                "/jobs/" + jobId + "/jobmanager/config", "/jobmanager/environment", "/jobs/" + jobId,
                "/jobs/" + jobId + "/plan", "/taskmanagers")) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(urls.get("ui") + path)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isEqualTo(200);
            views.put(path, r.body());
        }
        views.forEach((path, body) -> assertThat(body).as(path).doesNotContain(secret));
        assertThat(views.get("/jobmanager/config")).as("the key is listed, its value masked")
                .containsPattern("\"key\":\"" + Pattern.quote(P + "sasl.jaas.config") + "\",\"value\":\"\\*+\"")
                .containsPattern("\"key\":\"" + Pattern.quote(P + "ssl.truststore.password")
                        + "\",\"value\":\"\\*+\"");
    }

    @Test
    void thePasswordIsInNoFileOfTheJobState() throws Exception {
        try (Stream<Path> files = Files.walk(dir.resolve("state-ok"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).as("%s", f)
                        .doesNotContain(secret);
            }
        }
    }

    @Test
    void aWrongPasswordFailsAtStartNamingTheLogin() throws Exception {
        String wrong = "Wx" + random(12);
        PipelineProcess bad = start("wrong-password", wrong);
        int rc = bad.awaitExit(120);
        String log = bad.log();
        assertThat(rc).as(log).isEqualTo(2);
        assertThat(log).contains("refused Inflow's login", "'" + P + "sasl.jaas.config'",
                "Authentication failed during authentication due to invalid credentials with SASL mechanism"
                        + " SCRAM-SHA-512");
        assertThat(log).doesNotContain(wrong).doesNotContain(secret);
    }

    @Test
    void saslWithoutALoginFailsAtStartNamingTheKey() throws Exception {
        Map<String, String> keys = securityKeys(secret);
        keys.remove(P + "sasl.jaas.config");
        List<String> args = new ArrayList<>(List.of("run", "--bootstrap-servers", kafka.bootstrapServers(),
                "--state-dir", dir.resolve("state-no-login").toString()));
        keys.forEach((k, v) -> args.add("-D" + k + "=" + v));
        Path log = dir.resolve("no-login.log");
        assertThat(PipelineProcess.runToEnd(log, args, 120)).isEqualTo(2);
        assertThat(Files.readString(log)).contains("'" + P + "security.protocol' is SASL_SSL but '" + P
                + "sasl.jaas.config' is not set").doesNotContain(secret);
    }

    /** The -D keys of the README's Secured Kafka section, with {@code password} for user inflow. */
    private Map<String, String> securityKeys(String password) {
        Map<String, String> k = new LinkedHashMap<>();
        k.put(P + "security.protocol", "SASL_SSL");
        k.put(P + "sasl.mechanism", "SCRAM-SHA-512");
        k.put(P + "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required"
                + " username=\"inflow\" password=\"" + password + "\";");
        k.put(P + "ssl.truststore.location", certs.trustStore().toString());
        k.put(P + "ssl.truststore.password", certs.password());
        k.put(P + "ssl.truststore.type", "PKCS12");
        return k;
    }

    private PipelineProcess start(String name, String password) throws Exception {
        // everything at INFO (Flink, the Kafka clients' configuration dumps, Inflow): the log the secret must avoid
        Path log4j = dir.resolve("log4j2-info.properties");
        Files.writeString(log4j, """
                rootLogger.level = INFO
                rootLogger.appenderRef.console.ref = console
                appender.console.type = Console
                appender.console.name = console
                appender.console.layout.type = PatternLayout
                appender.console.layout.pattern = %d{HH:mm:ss.SSS} %-5level %c{1} - %msg%n
                """);
        List<String> args = new ArrayList<>(List.of("run", "--bootstrap-servers", kafka.bootstrapServers(),
                "--state-dir", dir.resolve("state-" + name).toString(), "-Dinflow.kafka.group-id=secured-" + name,
                "-Dinflow.text.compute=TOKENS", "-Dinflow.image.enabled=false",
                "-Dexecution.checkpointing.interval=1s", "-Dparallelism.default=" + PipelineUnderTest.PARTITIONS));
        securityKeys(password).forEach((k, v) -> args.add("-D" + k + "=" + v));
        return PipelineProcess.start(dir.resolve(name + ".log"),
                List.of("-Dlog4j2.configurationFile=" + log4j.toUri()), args);
    }

    private List<RecordMetadata> produce(List<byte[][]> records) throws Exception {
        Properties p = settings.clientProperties();
        p.setProperty("acks", "all");
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (byte[][] kv : records) {
                sent.add(producer.send(new ProducerRecord<>(settings.topics().text(), kv[0], kv[1])));
            }
            producer.flush();
            List<RecordMetadata> out = new ArrayList<>();
            for (Future<RecordMetadata> f : sent) {
                out.add(f.get(30, TimeUnit.SECONDS));
            }
            return out;
        }
    }

    /** Waits until the process logs a line containing {@code text}; returns the log. */
    private static String awaitLog(PipelineProcess p, String text) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            String log = p.log();
            if (log.lines().anyMatch(l -> l.startsWith(text))) {
                return log.lines().filter(l -> l.startsWith(text)).findFirst().orElseThrow();
            }
            if (!p.isAlive()) {
                throw new AssertionError("the run ended before logging '" + text + "':\n" + tail(p));
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no '" + text + "' within " + WAIT + ":\n" + tail(p));
    }

    private static String tail(PipelineProcess p) {
        String log = p.log();
        return log.length() <= 6000 ? log : log.substring(log.length() - 6000);
    }

    private static String random(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
