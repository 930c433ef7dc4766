package io.inflow.e2e;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.cluster.ClusterLayout;
import io.inflow.jobs.cluster.ClusterRest;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
 * The long version ({@code -Dinflow.e2e.cluster.long=true}: 300,000 events, five TaskManager kills, one broker
 * restart, one JobManager kill) is described in e2e-tests/README.md. Needs {@code mvn package} of the jobs module
 * first (the {@code verify} reactor does it); skipped when the cluster jar is missing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(1800)
class ClusterFaultTest {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterFaultTest.class);
    private static final boolean LONG = Boolean.getBoolean("inflow.e2e.cluster.long");
    private static final Duration WAIT = Duration.ofMinutes(3);

    private EmbeddedKafkaBroker kafka;
    private StandaloneCluster cluster;

    @BeforeAll
    void setUp() throws IOException {
        cluster = StandaloneCluster.create("cluster-fault");
        kafka = EmbeddedKafkaBroker.start(LONG ? cluster.dir().resolve("kafka") : null);
    }

    @AfterAll
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void taskManagerAndJobManagerKillsLoseAndDuplicateNothing() throws Exception {
        // the stream must outlast the faults (each TaskManager cycle ~30 s, the JobManager's ~60 s on two cores)
        int events = LONG ? 300_000 : 24_000; // long: the stream (5 min) outlasts 5 TM kills, a broker restart, the JM kill
        int perSecond = LONG ? 1_000 : 150;
        int holdAt = events - (LONG ? 5_000 : 1_500);
        int tmKills = LONG ? 5 : 2;
        long t0 = System.nanoTime();
        String start = cluster.start("--taskmanagers", "2", "--slots", "2");
        assertThat(start).contains("cluster ready: web UI " + cluster.rest().url() + ", 2 TaskManagers, 4 slots");
        LOG.info("cluster up in {} s", (System.nanoTime() - t0) / 1_000_000_000L);

        String name = "cf";
        Configuration conf = OutputChecks.namedPipeline(kafka.bootstrapServers(), name);
        KafkaSettings settings = KafkaOptions.settings(conf);
        TopicAdmin.ensureTopics(settings, PipelineUnderTest.PARTITIONS, (short) 1);
        String[] submit = cluster.submitArgs(conf, kafka.bootstrapServers(), "-Dinflow.text.compute=TOKENS",
                "-Dinflow.image.enabled=false", "-Dexecution.checkpointing.interval=1s", "-Dparallelism.default=2",
                "-Drestart-strategy.type=fixed-delay", "-Drestart-strategy.fixed-delay.attempts=1000",
                "-Drestart-strategy.fixed-delay.delay=1s");

        ClusterRest rest = cluster.rest();
        List<String> summary = new ArrayList<>();
        try (StreamProducer stream = StreamProducer.start(kafka.bootstrapServers(), settings.topics().text(), name,
                events, perSecond, holdAt);
                OutputAudit audit = new OutputAudit(kafka.bootstrapServers(), settings.topics().enriched(),
                        settings.topics().deadLetter())) {
            String jobId = StandaloneCluster.jobId(cluster.cli(submit));
            for (int kill = 1; kill <= tmKills; kill++) {
                awaitProgress(rest, jobId, audit, LONG ? 5_000 : 800, stream, holdAt);
                String victim = busyTaskManager(rest);
                long killedAt = System.nanoTime();
                cluster.kill(victim);
                int before = OutputChecks.drain(audit);
                long restoredFrom = awaitOutputBeyond(rest, jobId, audit, before);
                double recovery = (System.nanoTime() - killedAt) / 1e9;
                summary.add(String.format(Locale.ROOT, "TaskManager kill #%d (%s): output resumed %.1f s after"
                        + " kill -9 (restored checkpoint %d)", kill, victim, recovery, restoredFrom));
                LOG.info(summary.get(summary.size() - 1));
                System.out.println(summary.get(summary.size() - 1));
                assertThat(cluster.restartMissing()).contains("started " + victim).contains("2 TaskManagers");
                if (LONG && kill == 2) {
                    summary.add(restartBroker(rest, jobId, audit, stream, holdAt));
                }
            }

            // the JobManager: no HA, so the job ends with it; restart + resubmit resumes from the retained checkpoint
            awaitProgress(rest, jobId, audit, LONG ? 5_000 : 800, stream, holdAt);
            long killedAt = System.nanoTime();
            cluster.kill(ClusterLayout.JOBMANAGER);
            int before = OutputChecks.drain(audit);
            String restarted = cluster.restartMissing();
            assertThat(restarted).contains("started jobmanager").contains("2 TaskManagers");
            double jmUp = (System.nanoTime() - killedAt) / 1e9;
            String resubmit = cluster.cli(submit);
            assertThat(resubmit).containsPattern("resuming from \\S+chk-\\d+ \\(checkpoint \\d+, taken at ");
            jobId = StandaloneCluster.jobId(resubmit);
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
            String status = cluster.status();
            assertThat(status).contains("2 TaskManagers").contains(jobId + " inflow-pipeline RUNNING");
            String report = String.format(Locale.ROOT, "cluster fault test (%s): %d events, 0 lost, 0 duplicated"
                    + " (read_committed); %s; test took %d s", LONG ? "long" : "quick", events,
                    String.join("; ", summary), (System.nanoTime() - t0) / 1_000_000_000L);
            LOG.info(report);
            System.out.println(report);
            Files.writeString(cluster.dir().resolve("recovery-times.txt"), report + "\n");
        }
    }

    /** Stops and starts the broker on the same data directory and port; the job rides it out. */
    private String restartBroker(ClusterRest rest, String jobId, OutputAudit audit, StreamProducer stream,
            int holdAt) throws Exception {
        awaitProgress(rest, jobId, audit, 5_000, stream, Integer.MAX_VALUE);
        long at = System.nanoTime();
        int sentBefore = stream.sent();
        Path dir = kafka.dataDir();
        kafka.close();
        kafka = EmbeddedKafkaBroker.start(dir);
        // outputs never outnumber inputs: beyond this many, inputs produced after the restart came out too (output
        // does not pause long enough for a drain to end: the job rides out a restart of under a second)
        awaitOutputBeyond(rest, jobId, audit, sentBefore + 1_000);
        assertThat(stream.sent()).as("still mid-stream when output resumed").isLessThan(holdAt);
        return String.format(Locale.ROOT, "broker restart: output resumed %.1f s after the stop",
                (System.nanoTime() - at) / 1e9);
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

    /** Waits until output advanced by {@code outputs} and a newer checkpoint completed, mid-stream. */
    private void awaitProgress(ClusterRest rest, String jobId, OutputAudit audit, int outputs, StreamProducer stream,
            int holdAt) {
        long chk = cluster.latestCheckpoint(jobId);
        int from = audit.total();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (audit.total() - from < outputs || cluster.latestCheckpoint(jobId) <= chk) {
            assertThat(System.nanoTime()).as("progress within %s (%s, checkpoint %d; logs in %s)", WAIT,
                    audit.summary(), cluster.latestCheckpoint(jobId), cluster.layout().root().resolve("log"))
                    .isLessThan(deadline);
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
                    cluster.layout().root().resolve("log")).isLessThan(deadline);
            audit.poll(Duration.ofMillis(100));
        }
        try {
            return rest.get("/jobs/" + jobId + "/checkpoints").path("latest").path("restored").path("id").asLong(0);
        } catch (IOException e) {
            return 0;
        }
    }
}
