package io.inflow.e2e;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.cluster.ClusterLayout;
import io.inflow.jobs.cluster.ClusterRest;
import io.inflow.jobs.cluster.SessionCluster;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.jobs.embedded.Ports;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fault tolerance on a real standalone cluster, in the style of Flink's own end-to-end tests: {@code ./inflow cluster
 * start} runs a JobManager and two TaskManagers as separate JVMs (from {@code jobs/target/flink-lib}),
 * {@code ./inflow cluster submit} sends the cluster jar ({@code jobs/target/inflow-jobs-*-flink.jar}) over REST at
 * parallelism 2, a real broker (in this JVM) receives a steady stream of text events, and the test
 * <ul>
 *   <li>{@code kill -9}s the TaskManager that runs the job's tasks after a new checkpoint completed, measures until
 *       output resumes, and starts it again with {@code ./inflow cluster start} (twice);</li>
 *   <li>{@code kill -9}s the JobManager, starts it again ({@code cluster start}) and resubmits: the job resumes from
 *       its retained checkpoint ({@code resuming from ...chk-N});</li>
 *   <li>counts every input exactly once across {@code enriched} and {@code dlq} with {@code read_committed}.</li>
 * </ul>
 * The long version ({@code -Dinflow.e2e.cluster.long=true}: 200,000 events, five TaskManager kills, one broker
 * restart, one JobManager kill) is described in e2e-tests/README.md. Needs {@code mvn package} of the jobs module
 * first (the {@code verify} reactor does it); skipped when the cluster jar is missing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(1800)
class ClusterFaultTest {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterFaultTest.class);
    private static final boolean LONG = Boolean.getBoolean("inflow.e2e.cluster.long");
    private static final Duration WAIT = Duration.ofMinutes(3);
    private static final Pattern JOB_ID = Pattern.compile("as job ([0-9a-f]{32})");

    private EmbeddedKafkaBroker kafka;
    private Path tmp;
    private ClusterLayout layout;
    private SessionCluster cluster;
    private int restPort;
    private int metricsPort;
    private int cliRuns;

    @BeforeAll
    void setUp() throws IOException {
        SessionCluster.Artifacts artifacts = SessionCluster.Artifacts.locate(null, null);
        Assumptions.assumeTrue(Files.isRegularFile(artifacts.jobJar()) && Files.isDirectory(artifacts.flinkLib()),
                "no cluster jar / flink-lib at " + artifacts + ": run `mvn -B verify` (or package the jobs module)");
        tmp = Path.of("target", "cluster-fault").toAbsolutePath();
        if (Files.exists(tmp)) {
            try (Stream<Path> old = Files.walk(tmp)) {
                old.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        Files.createDirectories(tmp);
        layout = new ClusterLayout(tmp.resolve("cluster"));
        cluster = new SessionCluster(layout, artifacts);
        // a test JVM that ends early must not leave the cluster's JVMs behind (they run in their own session)
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopCluster));
        restPort = Ports.freeLoopbackPort();
        metricsPort = freeRun(3);
        kafka = EmbeddedKafkaBroker.start(LONG ? tmp.resolve("kafka") : null);
    }

    @AfterAll
    void tearDown() {
        stopCluster();
        if (kafka != null) {
            kafka.close();
        }
    }

    private void stopCluster() {
        if (cluster != null) {
            try {
                cluster.stop(new PrintStream(PrintStream.nullOutputStream()), Duration.ofSeconds(20));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void taskManagerAndJobManagerKillsLoseAndDuplicateNothing() throws Exception {
        // the stream must outlast the faults (each TaskManager cycle ~30 s, the JobManager's ~60 s on two cores)
        int events = LONG ? 200_000 : 24_000;
        int perSecond = LONG ? 1_000 : 150;
        int holdAt = events - (LONG ? 5_000 : 1_500);
        int tmKills = LONG ? 5 : 2;
        long t0 = System.nanoTime();
        String start = cli("cluster", "start", "--data-dir", layout.root().toString(), "--taskmanagers", "2",
                "--slots", "2", "--rest-port", Integer.toString(restPort), "--metrics-port",
                Integer.toString(metricsPort),
                // a dead TaskManager is noticed by missed heartbeats (Flink's defaults: 10 s / 50 s)
                "-Dheartbeat.interval=1000", "-Dheartbeat.timeout=5000");
        assertThat(start).contains("cluster ready: web UI http://127.0.0.1:" + restPort + ", 2 TaskManagers, 4 slots");
        LOG.info("cluster up in {} s", (System.nanoTime() - t0) / 1_000_000_000L);

        String name = "cf";
        Configuration conf = OutputChecks.namedPipeline(kafka.bootstrapServers(), name);
        KafkaSettings settings = KafkaOptions.settings(conf);
        TopicAdmin.ensureTopics(settings, PipelineUnderTest.PARTITIONS, (short) 1);
        List<String> submit = new ArrayList<>(List.of("cluster", "submit", "--data-dir", layout.root().toString(),
                "--bootstrap-servers", kafka.bootstrapServers()));
        conf.toMap().forEach((k, v) -> submit.add("-D" + k + "=" + v));
        submit.addAll(List.of("-Dinflow.text.compute=TOKENS", "-Dinflow.image.enabled=false",
                "-Dexecution.checkpointing.interval=1s", "-Dparallelism.default=2",
                "-Drestart-strategy.type=fixed-delay", "-Drestart-strategy.fixed-delay.attempts=1000",
                "-Drestart-strategy.fixed-delay.delay=1s"));

        ClusterRest rest = new ClusterRest("http://127.0.0.1:" + restPort);
        List<String> summary = new ArrayList<>();
        try (StreamProducer stream = StreamProducer.start(kafka.bootstrapServers(), settings.topics().text(), name,
                events, perSecond, holdAt);
                OutputAudit audit = new OutputAudit(kafka.bootstrapServers(), settings.topics().enriched(),
                        settings.topics().deadLetter())) {
            String jobId = jobId(cli(submit.toArray(String[]::new)));
            for (int kill = 1; kill <= tmKills; kill++) {
                awaitProgress(rest, jobId, audit, LONG ? 5_000 : 800, stream, holdAt);
                String victim = busyTaskManager(rest);
                long pid = layout.pid(victim).orElseThrow();
                long killedAt = System.nanoTime();
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                int before = OutputChecks.drain(audit);
                long restoredFrom = awaitOutputBeyond(rest, jobId, audit, before);
                double recovery = (System.nanoTime() - killedAt) / 1e9;
                summary.add(String.format(Locale.ROOT, "TaskManager kill #%d (%s): output resumed %.1f s after"
                        + " kill -9 (restored checkpoint %d)", kill, victim, recovery, restoredFrom));
                LOG.info(summary.get(summary.size() - 1));
                System.out.println(summary.get(summary.size() - 1));
                assertThat(cli("cluster", "start", "--data-dir", layout.root().toString()))
                        .contains("started " + victim).contains("2 TaskManagers");
                if (LONG && kill == 2) {
                    summary.add(restartBroker(rest, jobId, audit, stream));
                }
            }

            // the JobManager: no HA, so the job ends with it; restart + resubmit resumes from the retained checkpoint
            awaitProgress(rest, jobId, audit, LONG ? 5_000 : 800, stream, holdAt);
            long killedAt = System.nanoTime();
            ProcessHandle.of(layout.pid(ClusterLayout.JOBMANAGER).orElseThrow())
                    .ifPresent(ProcessHandle::destroyForcibly);
            int before = OutputChecks.drain(audit);
            String restarted = cli("cluster", "start", "--data-dir", layout.root().toString());
            assertThat(restarted).contains("started jobmanager").contains("2 TaskManagers");
            double jmUp = (System.nanoTime() - killedAt) / 1e9;
            String resubmit = cli(submit.toArray(String[]::new));
            assertThat(resubmit).containsPattern("resuming from \\S+chk-\\d+ \\(checkpoint \\d+, taken at ");
            jobId = jobId(resubmit);
            awaitOutputBeyond(rest, jobId, audit, before);
            summary.add(String.format(Locale.ROOT, "JobManager kill: cluster back %.1f s, output resumed %.1f s after"
                    + " kill -9 (restart + resubmit from the retained checkpoint)", jmUp,
                    (System.nanoTime() - killedAt) / 1e9));
            LOG.info(summary.get(summary.size() - 1));

            stream.release();
            List<RecordMetadata> landed = stream.awaitLanded();
            assertThat(audit.awaitTotal(landed.size(), Duration.ofMinutes(LONG ? 10 : 3), a -> { }))
                    .as("all %d inputs out (%s)", landed.size(), audit.summary()).isTrue();
            audit.poll(Duration.ofSeconds(3)); // a duplicate would come late
            OutputChecks.everyInputExactlyOnce(audit, landed);
            assertThat(audit.deadLetters()).hasSize(events / 1000);
            String status = cli("cluster", "status", "--data-dir", layout.root().toString());
            assertThat(status).contains("2 TaskManagers").contains(jobId + " inflow-pipeline RUNNING");
            String report = String.format(Locale.ROOT, "cluster fault test (%s): %d events, 0 lost, 0 duplicated"
                    + " (read_committed); %s; test took %d s", LONG ? "long" : "quick", events,
                    String.join("; ", summary), (System.nanoTime() - t0) / 1_000_000_000L);
            LOG.info(report);
            System.out.println(report);
            Files.writeString(tmp.resolve("recovery-times.txt"), report + "\n");
        }
    }

    /** Stops and starts the broker on the same data directory and port; the job rides it out. */
    private String restartBroker(ClusterRest rest, String jobId, OutputAudit audit, StreamProducer stream)
            throws Exception {
        awaitProgress(rest, jobId, audit, 5_000, stream, Integer.MAX_VALUE);
        long at = System.nanoTime();
        Path dir = kafka.dataDir();
        kafka.close();
        kafka = EmbeddedKafkaBroker.start(dir);
        int before = OutputChecks.drain(audit);
        awaitOutputBeyond(rest, jobId, audit, before);
        return String.format(Locale.ROOT, "broker restart: output resumed %.1f s after the stop",
                (System.nanoTime() - at) / 1e9);
    }

    /** Runs {@code ./inflow <args>} (io.inflow.jobs.cli.Main in its own JVM) to its end; its output. */
    private String cli(String... args) throws Exception {
        Path log = tmp.resolve("cli-" + (++cliRuns) + "-" + args[1] + ".log");
        int rc = PipelineProcess.runToEnd(log, List.of(args), 300);
        String out = Files.readString(log);
        assertThat(rc).as("./inflow %s:\n%s", String.join(" ", args), out).isZero();
        return out;
    }

    private static String jobId(String submitOutput) {
        Matcher m = JOB_ID.matcher(submitOutput);
        assertThat(m.find()).as("job id in:\n%s", submitOutput).isTrue();
        return m.group(1);
    }

    /** The TaskManager with occupied slots (where the job's tasks run). */
    private static String busyTaskManager(ClusterRest rest) throws Exception {
        for (JsonNode tm : rest.get("/taskmanagers").path("taskmanagers")) {
            if (tm.path("freeSlots").asInt() < tm.path("slotsNumber").asInt()) {
                return tm.path("id").asText();
            }
        }
        throw new AssertionError("no TaskManager runs tasks: " + rest.get("/taskmanagers"));
    }

    /** Id of the newest completed checkpoint of the job (0 when none). */
    private static long latestCheckpoint(ClusterRest rest, String jobId) {
        try {
            return rest.get("/jobs/" + jobId + "/checkpoints").path("latest").path("completed").path("id").asLong(0);
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** Waits until output advanced by {@code outputs} and a newer checkpoint completed, mid-stream. */
    private void awaitProgress(ClusterRest rest, String jobId, OutputAudit audit, int outputs, StreamProducer stream,
            int holdAt) {
        long chk = latestCheckpoint(rest, jobId);
        int from = audit.total();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (audit.total() - from < outputs || latestCheckpoint(rest, jobId) <= chk) {
            assertThat(System.nanoTime()).as("progress within %s (%s, checkpoint %d; logs in %s)", WAIT,
                    audit.summary(), latestCheckpoint(rest, jobId), layout.root().resolve("log")).isLessThan(deadline);
            audit.poll(Duration.ofMillis(200));
        }
        assertThat(stream.sent()).as("still mid-stream: the stream has not reached its hold point (a fault there"
                + " would leave no new input to show recovery)").isLessThan(holdAt);
    }

    /** Waits until more than {@code total} outputs are visible; the checkpoint the job restored (0: none known). */
    private long awaitOutputBeyond(ClusterRest rest, String jobId, OutputAudit audit, int total) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (audit.total() <= total) {
            assertThat(System.nanoTime()).as("output beyond %d within %s (logs in %s)", total, WAIT,
                    layout.root().resolve("log")).isLessThan(deadline);
            audit.poll(Duration.ofMillis(100));
        }
        try {
            return rest.get("/jobs/" + jobId + "/checkpoints").path("latest").path("restored").path("id").asLong(0);
        } catch (IOException e) {
            return 0;
        }
    }


    /** The first of {@code n} consecutive loopback ports that are free now. */
    private static int freeRun(int n) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = Ports.freeLoopbackPort();
            boolean free = true;
            for (int i = 1; i < n && free; i++) {
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), base + i), 1);
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free && base + n < 65536) {
                return base;
            }
        }
        throw new IOException("no " + n + " consecutive free ports");
    }
}
