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
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 60 s compute stall on a real standalone cluster (JobManager + 2 TaskManager JVMs, 2 slots each), the job at
 * parallelism 4 with the real CPU encoder (MiniLM-L6) and a steady stream of text events. The stall comes from the
 * drill key {@code inflow.fault-injection.compute-stall-file}: the test creates the file, waits 60 s and removes it,
 * sampling every second from outside as an operator's monitoring would: each TaskManager's heap and direct memory
 * (Flink's REST API), its Arrow memory ({@code inflow_arrow_allocated_bytes} on Inflow's endpoint), the consumer
 * group's lag (committed offsets against the log end, as {@code kafka-consumer-groups} shows it) and the job's
 * checkpoints and restarts. It asserts that
 * <ul>
 *   <li>each TaskManager loaded one encoder, shared by its two slots (its log: one {@code created shared encoder},
 *       two batching operators opened);</li>
 *   <li>during the stall memory stays bounded: no growth from the first half of the stall to the second (Arrow: at
 *       most one batch more; heap: within GC noise; direct: within 8 MiB), heap under 90% of its maximum;</li>
 *   <li>the lag grows by most of what the stream sent meanwhile, and checkpoints time out (the test sets a 30 s
 *       checkpoint timeout) without failing the job: {@code numRestarts} stays 0;</li>
 *   <li>afterwards the lag drains, throughput returns to the input rate, checkpoints complete again, and every
 *       input comes out exactly once in {@code enriched} + {@code dlq} (read_committed).</li>
 * </ul>
 * Prints the figures (and writes them to {@code target/cluster-stall/stall.txt}). About 3.5 minutes, so it runs with
 * the long cluster runs ({@code -Dinflow.e2e.cluster.long=true}, e2e-tests/README.md), not in {@code mvn verify}.
 */
@EnabledIfSystemProperty(named = "inflow.e2e.cluster.long", matches = "true",
        disabledReason = "a 60 s stall on a cluster, about 3.5 min: run with -Dinflow.e2e.cluster.long=true")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(1200)
class ClusterStallTest {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterStallTest.class);
    /** Events per second: well below what the two CPU encoders sustain here, so the backlog drains afterwards. */
    private static final int RATE = 60;
    private static final Duration STALL = Duration.ofSeconds(60);
    private static final Duration WAIT = Duration.ofMinutes(3);
    private static final int PARTITIONS = 4;
    private static final Pattern ARROW = Pattern.compile("(?m)^inflow_arrow_allocated_bytes (\\S+)$");

    private EmbeddedKafkaBroker kafka;
    private StandaloneCluster cluster;

    @BeforeAll
    void setUp() throws IOException {
        cluster = StandaloneCluster.create("cluster-stall");
        kafka = EmbeddedKafkaBroker.start(null);
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

    /** One second's observation of the cluster. */
    private record Sample(double atS, Map<String, double[]> memory, Map<Integer, Double> arrow, long lag,
            int outputs, long checkpointsCompleted, long checkpointsFailed) {
    }

    @Test
    void aSixtySecondComputeStallKeepsMemoryBoundedAndLosesNothing() throws Exception {
        assertThat(cluster.start("--taskmanagers", "2", "--slots", "2")).contains("2 TaskManagers, 4 slots");
        Path stallFile = cluster.dir().resolve("stall");
        int inflowPorts = StandaloneCluster.freeRun(2);
        String name = "stall";
        Configuration conf = OutputChecks.namedPipeline(kafka.bootstrapServers(), name);
        KafkaSettings settings = KafkaOptions.settings(conf);
        TopicAdmin.ensureTopics(settings, PARTITIONS, (short) 1);
        String[] submit = cluster.submitArgs(conf, kafka.bootstrapServers(), "-Dparallelism.default=4",
                "-Dinflow.image.enabled=false", "-Dinflow.compute.threads=1",
                "-Dinflow.fault-injection.compute-stall-file=" + stallFile,
                "-Dinflow.metrics.port=" + inflowPorts + "-" + (inflowPorts + 1),
                "-Dexecution.checkpointing.interval=1s", "-Dexecution.checkpointing.timeout=30s",
                "-Drestart-strategy.type=fixed-delay", "-Drestart-strategy.fixed-delay.attempts=1000",
                "-Drestart-strategy.fixed-delay.delay=1s");
        int events = RATE * 900; // more than the test needs: it ends the stream itself once recovery is measured
        int holdAt = Integer.MAX_VALUE;
        ClusterRest rest = cluster.rest();
        List<String> report = new ArrayList<>();
        try (StreamProducer stream = StreamProducer.start(kafka.bootstrapServers(), settings.topics().text(), name,
                events, RATE, holdAt);
                OutputAudit audit = new OutputAudit(kafka.bootstrapServers(), settings.topics().enriched(),
                        settings.topics().deadLetter());
                Admin admin = Admin.create(adminProps())) {
            String jobId = StandaloneCluster.jobId(cluster.cli(submit));
            awaitOutputs(audit, RATE * 5);
            long chk = cluster.latestCheckpoint(jobId);
            while (cluster.latestCheckpoint(jobId) <= chk + 2) {
                audit.poll(Duration.ofMillis(200));
            }
            oneEncoderPerTaskManager();

            Sampler sampler = new Sampler(rest, jobId, admin, settings, audit, inflowPorts);
            List<Sample> before = sampler.run(Duration.ofSeconds(15));
            Files.createFile(stallFile);
            long stallStart = System.nanoTime();
            List<Sample> stall = sampler.run(STALL);
            Files.delete(stallFile);
            long released = System.nanoTime();
            assertThat(stream.done()).as("the stream still runs when the stall ends").isFalse();

            // memory: bounded, i.e. no growth from the first half of the stall to the second
            List<Sample> firstHalf = stall.subList(0, stall.size() / 2);
            List<Sample> secondHalf = stall.subList(stall.size() / 2, stall.size());
            for (String tm : stall.get(0).memory().keySet()) {
                double heapMax = stall.get(0).memory().get(tm)[1];
                report.add(String.format(Locale.ROOT, "%s: heap %.0f MiB max before, %.0f then %.0f MiB in the"
                        + " stall's halves (of %.0f); direct %.1f then %.1f MiB", tm, max(before, tm, 0) / MIB,
                        max(firstHalf, tm, 0) / MIB, max(secondHalf, tm, 0) / MIB, heapMax / MIB,
                        max(firstHalf, tm, 2) / MIB, max(secondHalf, tm, 2) / MIB));
                assertThat(max(stall, tm, 0)).as("%s heap in the stall below 90%% of its max", tm)
                        .isLessThan(0.9 * heapMax);
                // GC: the heap's sawtooth peaks; 25% of the larger earlier peak, at least 64 MiB
                double heapEarlier = Math.max(max(firstHalf, tm, 0), max(before, tm, 0));
                assertThat(max(secondHalf, tm, 0)).as("%s heap does not grow during the stall", tm)
                        .isLessThanOrEqualTo(heapEarlier + Math.max(0.25 * heapEarlier, 64 * MIB));
                assertThat(max(secondHalf, tm, 2)).as("%s direct memory does not grow during the stall", tm)
                        .isLessThanOrEqualTo(max(firstHalf, tm, 2) + 8 * MIB);
            }
            for (int port : stall.get(0).arrow().keySet()) {
                double arrowFirst = arrow(firstHalf, port);
                double arrowSecond = arrow(secondHalf, port);
                report.add(String.format(Locale.ROOT, "TaskManager with Inflow port %d: Arrow %.2f MiB max before,"
                        + " %.2f then %.2f MiB in the stall's halves", port, arrow(before, port) / MIB,
                        arrowFirst / MIB, arrowSecond / MIB));
                assertThat(arrowFirst).as("port %d holds batches while stalled (the gauge is live)", port)
                        .isPositive();
                // one batch at most: 256 rows x 256 tokens x 4 bytes + counts, flags, validity
                assertThat(arrowSecond).as("port %d: Arrow memory does not grow during the stall", port)
                        .isLessThanOrEqualTo(arrowFirst + 300 * 1024);
            }

            // lag grows: checkpoints cannot complete while the chain waits, so committed offsets stand still
            long lagPeak = stall.get(stall.size() - 1).lag();
            long sentDuringStall = (long) (RATE * STALL.toSeconds());
            assertThat(lagPeak - stall.get(0).lag())
                    .as("lag growth during the stall (%d sent meanwhile)", sentDuringStall).isGreaterThan((long) (0.7 * sentDuringStall));
            int stalledOutputs = stall.get(stall.size() - 1).outputs() - stall.get(5).outputs();
            assertThat(stalledOutputs).as("outputs after the stall's first 5 s (in-flight batches drain first)")
                    .isZero();
            long failed = stall.get(stall.size() - 1).checkpointsFailed() - before.get(0).checkpointsFailed();
            assertThat(failed).as("checkpoints timed out during the stall (30 s timeout)").isPositive();

            // recovery: lag drains, throughput returns
            long caughtUpAt = 0;
            int outputsAtRelease = audit.total();
            long deadline = System.nanoTime() + WAIT.toNanos();
            long target = stall.get(0).lag() + 5L * RATE;
            while (caughtUpAt == 0) {
                assertThat(System.nanoTime()).as("lag back under %d within %s", target, WAIT).isLessThan(deadline);
                audit.poll(Duration.ofMillis(500));
                if (sampler.lag() <= target) {
                    caughtUpAt = System.nanoTime();
                }
            }
            double catchUp = (caughtUpAt - released) / 1e9;
            double drainRate = (audit.total() - outputsAtRelease) / catchUp;
            List<Sample> after = sampler.run(Duration.ofSeconds(15));
            double rateBefore = rate(before);
            double rateAfter = rate(after);
            assertThat(rateAfter).as("throughput after catching up (input %d/s)", RATE)
                    .isGreaterThan(0.8 * RATE);
            assertThat(after.get(after.size() - 1).checkpointsCompleted())
                    .as("checkpoints complete again").isGreaterThan(stall.get(stall.size() - 1).checkpointsCompleted());
            assertThat(restarts(rest, jobId)).as("the job never failed over").isZero();

            stream.finish();
            List<RecordMetadata> landed = stream.awaitLanded();
            assertThat(audit.awaitTotal(landed.size(), WAIT, a -> { }))
                    .as("all %d inputs out (%s)", landed.size(), audit.summary()).isTrue();
            audit.poll(Duration.ofSeconds(3)); // a duplicate would come late
            OutputChecks.everyInputExactlyOnce(audit, landed);
            assertThat(audit.deadLetters()).hasSize(landed.size() / 1000);

            report.add(0, String.format(Locale.ROOT, "cluster stall test: %d events at %d/s, parallelism 4 on 2"
                    + " TaskManagers (CPU MiniLM, one encoder each); %d s stall: lag %d -> %d, %d checkpoints timed out,"
                    + " 0 restarts; caught up %.1f s after the stall at %.0f events/s; throughput %.1f/s before,"
                    + " %.1f/s after; 0 lost, 0 duplicated (read_committed)", landed.size(), RATE,
                    STALL.toSeconds(), stall.get(0).lag(), lagPeak, failed, catchUp, drainRate, rateBefore, rateAfter));
            String text = String.join("\n", report);
            LOG.info(text);
            System.out.println(text);
            Files.writeString(cluster.dir().resolve("stall.txt"), text + "\n");
            assertThat((System.nanoTime() - stallStart) / 1e9).isGreaterThan(STALL.toSeconds());
        }
    }

    private static final double MIB = 1 << 20;

    private static double max(List<Sample> samples, String tm, int field) {
        return samples.stream().filter(s -> s.memory().containsKey(tm))
                .mapToDouble(s -> s.memory().get(tm)[field]).max()
                .orElseThrow(() -> new AssertionError("no sample of " + tm + ": its REST metrics never answered"));
    }

    private static double arrow(List<Sample> samples, int port) {
        return samples.stream().mapToDouble(s -> s.arrow().get(port)).max()
                .orElseThrow(() -> new AssertionError("no samples"));
    }

    /** Outputs per second over the samples. */
    private static double rate(List<Sample> samples) {
        Sample a = samples.get(0);
        Sample b = samples.get(samples.size() - 1);
        return (b.outputs() - a.outputs()) / (b.atS() - a.atS());
    }

    /** Each TaskManager log: one shared encoder created, two batching operators (its two slots) opened. */
    private void oneEncoderPerTaskManager() throws IOException {
        for (String tm : List.of(ClusterLayout.taskManager(1), ClusterLayout.taskManager(2))) {
            String log = Files.readString(cluster.layout().log(tm));
            assertThat(count(log, "created shared encoder")).as("%s loads one encoder", tm).isEqualTo(1);
            assertThat(count(log, " opened: model ModelRef[name=all-minilm-l6-v2,")).as("%s runs two embedding operators", tm)
                    .isEqualTo(2);
        }
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    private Properties adminProps() {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", kafka.bootstrapServers());
        return p;
    }

    private static long restarts(ClusterRest rest, String jobId) throws Exception {
        for (int i = 0; i < 60; i++) {
            JsonNode m = rest.get("/jobs/" + jobId + "/metrics?get=numRestarts");
            if (m.size() > 0) {
                return m.get(0).path("value").asLong();
            }
            Thread.sleep(500); // the web server fetches metrics lazily: the first answer may be empty
        }
        throw new AssertionError("no numRestarts for job " + jobId);
    }

    private static void awaitOutputs(OutputAudit audit, int total) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (audit.total() < total) {
            assertThat(System.nanoTime()).as("%d outputs within %s (%s)", total, WAIT, audit.summary())
                    .isLessThan(deadline);
            audit.poll(Duration.ofMillis(200));
        }
    }

    /** Samples the cluster once a second from outside, polling the audit in between. */
    private final class Sampler {
        private final ClusterRest rest;
        private final String jobId;
        private final Admin admin;
        private final KafkaSettings settings;
        private final OutputAudit audit;
        private final int inflowPorts;
        private final long t0 = System.nanoTime();

        Sampler(ClusterRest rest, String jobId, Admin admin, KafkaSettings settings, OutputAudit audit,
                int inflowPorts) {
            this.rest = rest;
            this.jobId = jobId;
            this.admin = admin;
            this.settings = settings;
            this.audit = audit;
            this.inflowPorts = inflowPorts;
        }

        List<Sample> run(Duration length) throws Exception {
            List<Sample> out = new ArrayList<>();
            long end = System.nanoTime() + length.toNanos();
            while (System.nanoTime() < end) {
                long next = System.nanoTime() + 1_000_000_000L;
                JsonNode counts = cluster.checkpoints(jobId).path("counts");
                Sample s = new Sample((System.nanoTime() - t0) / 1e9, memory(), arrow(), lag(), audit.total(),
                        counts.path("completed").asLong(), counts.path("failed").asLong());
                out.add(s);
                StringBuilder mem = new StringBuilder();
                s.memory().forEach((tm, m) -> mem.append(String.format(Locale.ROOT,
                        " %s heap %.0f MiB direct %.1f MiB;", tm, m[0] / MIB, m[2] / MIB)));
                s.arrow().forEach((port, b) -> mem.append(String.format(Locale.ROOT, " arrow@%d %.2f MiB;", port,
                        b / MIB)));
                LOG.info(String.format(Locale.ROOT, "t=%.0f s: lag %d, outputs %d, checkpoints %d completed %d"
                        + " failed;%s", s.atS(), s.lag(), s.outputs(), s.checkpointsCompleted(), s.checkpointsFailed(),
                        mem));
                while (System.nanoTime() < next) {
                    audit.poll(Duration.ofMillis(Math.max(1, (next - System.nanoTime()) / 1_000_000)));
                }
            }
            return out;
        }

        /** Per TaskManager: heap used, heap max, direct used (Flink's REST API). */
        private Map<String, double[]> memory() throws Exception {
            Map<String, double[]> out = new TreeMap<>();
            for (JsonNode tm : rest.get("/taskmanagers").path("taskmanagers")) {
                String id = tm.path("id").asText();
                Map<String, Double> v = new HashMap<>();
                for (JsonNode metric : rest.get("/taskmanagers/" + id + "/metrics?get=Status.JVM.Memory.Heap.Used,"
                        + "Status.JVM.Memory.Heap.Max,Status.JVM.Memory.Direct.MemoryUsed")) {
                    v.put(metric.path("id").asText(), metric.path("value").asDouble());
                }
                out.put(id, new double[] {v.getOrDefault("Status.JVM.Memory.Heap.Used", 0.0),
                        v.getOrDefault("Status.JVM.Memory.Heap.Max", 0.0),
                        v.getOrDefault("Status.JVM.Memory.Direct.MemoryUsed", 0.0)});
            }
            return out;
        }

        /**
         * Arrow bytes per Inflow metrics port ({@code inflow_arrow_allocated_bytes}): each TaskManager took one port
         * of the range, whichever was free first, so ports stand for TaskManagers without naming them.
         */
        private Map<Integer, Double> arrow() throws Exception {
            Map<Integer, Double> out = new TreeMap<>();
            for (int port = inflowPorts; port <= inflowPorts + 1; port++) {
                try {
                    Matcher m = ARROW.matcher(MetricsScrape.get("http://127.0.0.1:" + port + "/metrics"));
                    out.put(port, m.find() ? Double.parseDouble(m.group(1)) : 0);
                } catch (IOException e) {
                    out.put(port, 0.0);
                }
            }
            return out;
        }

        /** The consumer group's lag on the text topic: log end minus committed offset, summed over partitions. */
        long lag() throws Exception {
            String topic = settings.topics().text();
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(
                    settings.textGroupId()).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            long lag = 0;
            for (var e : admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                lag += e.getValue().offset() - (c == null ? 0 : c.offset());
            }
            return lag;
        }
    }
}
