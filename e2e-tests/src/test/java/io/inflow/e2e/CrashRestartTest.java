package io.inflow.e2e;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;

import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
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
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Crash-safe restarts of {@code ./inflow run}, driven from outside as a user would: the pipeline runs in its own
 * JVM against a real broker (in this JVM, so it survives the kills) while a steady stream of text events arrives;
 * the test kills the process with SIGKILL mid-stream, runs the same command again, and finally counts every input
 * across {@code enriched} and {@code dlq} with {@code read_committed}, by source offset.
 * <ul>
 *   <li>exactly-once: two kill -9 and one {@code ./inflow stop} on a 20,000-event stream, each restart resuming
 *       from the newest checkpoint (or the stop's savepoint): nothing lost, nothing duplicated;</li>
 *   <li>negative control: at-least-once with one kill must show duplicates (and still lose nothing), so the audit
 *       that finds none above is not vacuous; then {@code --fresh} moves the state aside and new input still flows.</li>
 * </ul>
 * Before each fault the test waits until the restarted process's output has visibly advanced and a new checkpoint
 * has completed on disk, so a kill never lands before the process did anything.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class CrashRestartTest {

    private static final Logger LOG = LoggerFactory.getLogger(CrashRestartTest.class);
    private static final Duration WAIT = Duration.ofMinutes(3);
    private static final Pattern CHK = Pattern.compile("chk-(\\d+)");

    private EmbeddedKafkaBroker kafka;
    /** State directories and the processes' logs: kept under target/ after the run, for a look after a failure. */
    private Path tmp;

    @BeforeAll
    void startBroker() throws IOException {
        tmp = Path.of("target", "crash-restart").toAbsolutePath();
        if (Files.exists(tmp)) {
            try (Stream<Path> old = Files.walk(tmp)) {
                old.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        Files.createDirectories(tmp);
        kafka = EmbeddedKafkaBroker.start(null);
    }

    /** Every pipeline process a test started: killed after it, whatever happened. */
    private final List<PipelineProcess> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(PipelineProcess::close);
        started.clear();
    }

    @AfterAll
    void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void exactlyOnceThroughTwoKillsAndAStop() throws Exception {
        Pipeline p = new Pipeline("eo", tmp.resolve("state-eo"), "1s", "exactly-once");
        int events = 20_000;
        List<String> summary = new ArrayList<>();
        long t0 = System.nanoTime();
        // the last 2,000 events wait until after the stop, so every fault lands mid-stream however slow the machine
        try (StreamProducer stream = StreamProducer.start(kafka.bootstrapServers(), p.text(), "eo", events, 250,
                events - 2_000);
                OutputAudit audit = p.audit()) {
            PipelineProcess run = p.start(0);
            for (int kill = 1; kill <= 2; kill++) {
                awaitProgress(p, audit, run, 2000, stream);
                long killedAt = System.nanoTime();
                run.kill9();
                // what the killed process committed; its open transactions now hold read_committed readers back
                int before = OutputChecks.drain(audit);
                LOG.info("kill -9 #{} at {} outputs, {} of {} events sent", kill, before, stream.sent(), events);
                run = p.start(kill);
                assertThat(awaitLog(run, "resuming from")).as("restart %d says what it restored", kill)
                        .containsPattern("resuming from \\S+chk-\\d+ \\(checkpoint \\d+, taken at ");
                awaitOutputBeyond(audit, before, run);
                double recovery = (System.nanoTime() - killedAt) / 1e9;
                summary.add(String.format("kill #%d: output resumed %.1f s after the kill", kill, recovery));
            }

            awaitProgress(p, audit, run, 1000, stream);
            Path stopLog = tmp.resolve("eo-stop.log");
            int rc = PipelineProcess.runToEnd(stopLog, List.of("stop", "--state-dir", p.stateDir.toString(),
                    "-Dinflow.kafka.group-id=" + p.name), 180);
            assertThat(rc).as("./inflow stop:\n%s", Files.readString(stopLog)).isZero();
            assertThat(Files.readString(stopLog)).containsPattern("savepoint \\S*savepoint-");
            assertThat(run.awaitExit(60)).as("the stopped run exits cleanly:\n%s", run.log()).isZero();
            assertThat(stream.done()).as("the stop happens mid-stream").isFalse();
            run = p.start(3);
            stream.release();
            assertThat(awaitLog(run, "resuming from")).containsPattern(
                    "resuming from \\S+savepoint-\\S+ \\(savepoint \\(checkpoint \\d+\\), taken at ");

            List<RecordMetadata> landed = stream.awaitLanded();
            assertThat(audit.awaitTotal(landed.size(), WAIT, a -> { }))
                    .as("all %d inputs out (%s)", landed.size(), audit.summary()).isTrue();
            audit.poll(Duration.ofSeconds(3)); // a duplicate would come late
            OutputChecks.everyInputExactlyOnce(audit, landed);
            assertThat(audit.deadLetters()).hasSize(events / 1000);
            run.close();
            LOG.info("exactly-once, {} events: {}; test took {} s", events, summary,
                    (System.nanoTime() - t0) / 1_000_000_000L);
        }
    }

    @Test
    void atLeastOnceShowsDuplicatesAfterAKillAndFreshStartsOver() throws Exception {
        Pipeline p = new Pipeline("alo", tmp.resolve("state-alo"), "2s", "at-least-once");
        int events = 6_000;
        try (StreamProducer stream = StreamProducer.start(kafka.bootstrapServers(), p.text(), "alo", events, 200,
                events - 1_000);
                OutputAudit audit = p.audit()) {
            PipelineProcess run = p.start(0);
            awaitProgress(p, audit, run, 500, stream);
            // output after the checkpoint: the kill then loses the sink's knowledge of it, and the replay repeats it
            awaitOutputBeyond(audit, audit.total() + 300, run);
            run.kill9();
            LOG.info("at-least-once: kill -9 at {} outputs, {} of {} events sent", OutputChecks.drain(audit), stream.sent(),
                    events);
            run = p.start(1);
            stream.release();
            assertThat(awaitLog(run, "resuming from")).contains("resuming from");
            List<RecordMetadata> landed = stream.awaitLanded();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!allOut(audit, landed) && System.nanoTime() < deadline) {
                audit.poll(Duration.ofMillis(200));
            }
            audit.poll(Duration.ofSeconds(2));
            assertThat(allOut(audit, landed)).as("at-least-once loses nothing either (%s)", audit.summary())
                    .isTrue();
            LOG.info("at-least-once after one kill -9: {} duplicated inputs of {}", audit.duplicates().size(),
                    landed.size());
            assertThat(audit.duplicates()).as("negative control: at-least-once + kill -9 repeats output")
                    .isNotEmpty();

            // --fresh: the old state is moved aside, the job starts from the group's committed offsets
            run.kill9();
            run = p.start(2, "--fresh");
            assertThat(awaitLog(run, "starting fresh")).contains("starting fresh (--fresh): moved the old state to")
                    .doesNotContain("resuming from");
            try (Stream<Path> discarded = Files.list(p.stateDir.resolve(p.name).resolve("discarded"))) {
                assertThat(discarded).hasSize(1);
            }
            List<RecordMetadata> more = StreamProducer.start(kafka.bootstrapServers(), p.text(), "alo-fresh", 200, 0)
                    .awaitLanded();
            deadline = System.nanoTime() + WAIT.toNanos();
            while (!allOut(audit, more) && System.nanoTime() < deadline) {
                audit.poll(Duration.ofMillis(200));
            }
            assertThat(allOut(audit, more)).as("input after a fresh start comes out").isTrue();
            run.close();
        }
    }

    /** One pipeline's command line: its own topics, consumer group, transactional ids and state directory. */
    private final class Pipeline {
        final String name;
        final Path stateDir;
        final List<String> args = new ArrayList<>();
        final KafkaSettings settings;

        Pipeline(String name, Path stateDir, String checkpointInterval, String delivery) {
            this.name = name;
            this.stateDir = stateDir;
            Configuration conf = new Configuration();
            conf.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            conf.set(KafkaOptions.GROUP_ID, name);
            conf.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, name);
            conf.set(KafkaOptions.DELIVERY_GUARANTEE, delivery);
            conf.set(KafkaOptions.TOPIC_TEXT, name + ".text");
            conf.set(KafkaOptions.TOPIC_ENRICHED, name + ".enriched");
            conf.set(KafkaOptions.TOPIC_DLQ, name + ".dlq");
            settings = KafkaOptions.settings(conf);
            TopicAdmin.ensureTopics(settings, PipelineUnderTest.PARTITIONS, (short) 1);
            args.addAll(List.of("run", "--bootstrap-servers", kafka.bootstrapServers(), "--state-dir",
                    stateDir.toString()));
            conf.toMap().forEach((k, v) -> args.add("-D" + k + "=" + v));
            // tokenization only and no image branch: 20,000 events in about a minute on two cores
            args.addAll(List.of("-Dinflow.text.compute=TOKENS", "-Dinflow.image.enabled=false",
                    "-Dexecution.checkpointing.interval=" + checkpointInterval,
                    "-Dparallelism.default=" + PipelineUnderTest.PARTITIONS,
                    "-Drestart-strategy.type=fixed-delay", "-Drestart-strategy.fixed-delay.attempts=3"));
        }

        String text() {
            return settings.topics().text();
        }

        OutputAudit audit() {
            return new OutputAudit(kafka.bootstrapServers(), settings.topics().enriched(),
                    settings.topics().deadLetter());
        }

        /** The same command every time (plus {@code extra}); its output in {@code <name>-<n>.log}. */
        PipelineProcess start(int n, String... extra) throws IOException {
            List<String> cmd = new ArrayList<>(args);
            cmd.addAll(List.of(extra));
            PipelineProcess p = PipelineProcess.start(tmp.resolve(name + "-" + n + ".log"), cmd);
            started.add(p);
            return p;
        }

        /** The highest completed checkpoint id on disk (0 when none). */
        long latestCheckpoint() throws IOException {
            if (!Files.isDirectory(stateDir)) {
                return 0;
            }
            try (Stream<Path> files = Files.walk(stateDir, 6)) {
                return files.filter(f -> f.getFileName().toString().equals("_metadata"))
                        .map(f -> CHK.matcher(f.getParent().getFileName().toString()))
                        .filter(Matcher::matches).mapToLong(m -> Long.parseLong(m.group(1))).max().orElse(0);
            }
        }
    }

    /**
     * Waits until the running process's output advanced by {@code outputs} and a checkpoint newer than the ones on
     * disk when the wait began completed; the stream must still be arriving (faults go in mid-stream).
     */
    private void awaitProgress(Pipeline p, OutputAudit audit, PipelineProcess run, int outputs, StreamProducer stream)
            throws Exception {
        long chk = p.latestCheckpoint();
        int from = audit.total();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (audit.total() - from < outputs || p.latestCheckpoint() <= chk) {
            assertThat(run.isAlive()).as("pipeline process alive:\n%s", run.log()).isTrue();
            assertThat(System.nanoTime()).as("progress within %s (%s, checkpoint %d):\n%s", WAIT, audit.summary(),
                    p.latestCheckpoint(), run.log()).isLessThan(deadline);
            audit.poll(Duration.ofMillis(200));
        }
        assertThat(stream.done()).as("still mid-stream (%d sent)", stream.sent()).isFalse();
    }

    /** Waits until more than {@code total} outputs are visible. */
    private static void awaitOutputBeyond(OutputAudit audit, int total, PipelineProcess run) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (audit.total() <= total) {
            assertThat(System.nanoTime()).as("output beyond %d within %s:\n%s", total, WAIT, run.log())
                    .isLessThan(deadline);
            audit.poll(Duration.ofMillis(100));
        }
    }


    private static String awaitLog(PipelineProcess run, String text) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!run.log().contains(text) && System.nanoTime() < deadline && run.isAlive()) {
            Thread.sleep(100);
        }
        return run.log();
    }

    private static boolean allOut(OutputAudit audit, List<RecordMetadata> landed) {
        return landed.stream().allMatch(m -> audit.hasOutputFor(m.topic(), m.partition(), m.offset()));
    }
}
