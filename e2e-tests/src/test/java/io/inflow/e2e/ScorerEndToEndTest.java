package io.inflow.e2e;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ScorerRef;

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
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spam/ham scorer at INT8 in {@code ./inflow run}, as a user runs it: {@code -Dinflow.text.scorer=spam-ham-minilm
 * -Dinflow.text.scorer.precision=int8}. The first process quantizes MiniLM into the cache directory; it is killed
 * with SIGKILL mid-stream, and the restarted process loads the cached integer model (no second calibration) and
 * resumes from its checkpoint. Every input comes out exactly once ({@code read_committed}, by source offset), the
 * malformed ones on {@code dlq}, a record sent with kcat included; every enriched event carries the scorer at int8
 * and two probabilities that sum to one, and the labels are right on the spam and ham texts of the stream.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class ScorerEndToEndTest {

    private static final Logger LOG = LoggerFactory.getLogger(ScorerEndToEndTest.class);
    private static final Duration WAIT = Duration.ofMinutes(4);
    /** Each text's label is known; the stream cycles through them. */
    private static final String[] SPAM = {
        "CONGRATULATIONS! You have been selected to receive a FREE cash prize of $1,000,000. Click here now to claim"
            + " your reward before the offer expires. Limited time only!!!",
        "Lose 30 pounds in 30 days with our miracle pill! No diet, no exercise. Order now and get a second bottle"
            + " FREE. Satisfaction guaranteed or your money back!",
        "Dear friend, I am a bank manager with a confidential business proposal: transfer of $25 million USD. Reply"
            + " with your bank account details to receive 30% commission.",
    };
    private static final String[] HAM = {
        "Hi Tom, the build on the release branch failed again last night. I think the new test needs the updated"
            + " config file; can you check it in before the meeting tomorrow?",
        "I upgraded the kernel to 2.4.19 and now the network card is not detected at boot. Has anyone on the list"
            + " seen this with the e100 driver?",
        "Thanks for the patch. I applied it to CVS and the razor check works again; the next release will have it.",
    };
    /** The integer encoder keeps the head's decisions on clear-cut texts; one miss in this many would be a bug. */
    private static final double MIN_CORRECT = 0.99;

    private EmbeddedKafkaBroker kafka;
    private Path tmp;

    @BeforeAll
    void startBroker() throws IOException {
        tmp = Path.of("target", "scorer-e2e").toAbsolutePath();
        if (Files.exists(tmp)) {
            try (Stream<Path> old = Files.walk(tmp)) {
                old.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        Files.createDirectories(tmp);
        kafka = EmbeddedKafkaBroker.start(null);
    }

    @AfterAll
    void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static String text(int i) {
        String[] pick = i % 2 == 0 ? SPAM : HAM;
        return pick[(i / 2) % pick.length];
    }

    private static String expectedLabel(String id) {
        return Integer.parseInt(id.substring(id.lastIndexOf('-') + 1)) % 2 == 0 ? "spam" : "ham";
    }

    @Test
    void int8ScorerThroughAKillAndARestartFromTheCache() throws Exception {
        String name = "scorer";
        Configuration conf = OutputChecks.namedPipeline(kafka.bootstrapServers(), name);
        KafkaSettings settings = KafkaOptions.settings(conf);
        TopicAdmin.ensureTopics(settings, PipelineUnderTest.PARTITIONS, (short) 1);
        Path cache = tmp.resolve("quantized");
        List<String> args = new ArrayList<>(List.of("run", "--bootstrap-servers", kafka.bootstrapServers(),
                "--state-dir", tmp.resolve("state").toString()));
        conf.toMap().forEach((k, v) -> args.add("-D" + k + "=" + v));
        args.addAll(List.of("-Dinflow.text.scorer=spam-ham-minilm", "-Dinflow.text.scorer.precision=int8",
                "-Dinflow.text.scorer.cache-dir=" + cache, "-Dinflow.embedding.encoding=OMIT",
                "-Dinflow.text.max-tokens=128", "-Dinflow.batch.length-buckets=64;128", "-Dinflow.image.enabled=false",
                "-Dexecution.checkpointing.interval=1s",
                "-Dparallelism.default=" + PipelineUnderTest.PARTITIONS,
                "-Drestart-strategy.type=fixed-delay", "-Drestart-strategy.fixed-delay.attempts=3"));
        int events = 1200;
        List<PipelineProcess> started = new ArrayList<>();
        try (StreamProducer stream = StreamProducer.start(kafka.bootstrapServers(), settings.topics().text(), name,
                events, 40, events - 200, ScorerEndToEndTest::text);
             OutputAudit audit = new OutputAudit(kafka.bootstrapServers(), settings.topics().enriched(),
                     settings.topics().deadLetter())) {
            PipelineProcess first = PipelineProcess.start(tmp.resolve("run-0.log"), args);
            started.add(first);
            awaitOutput(audit, 100, first);
            assertThat(first.log()).as("the first process quantized MiniLM").contains("quantizing all-minilm-l6-v2")
                    .contains("calibrated layer 6/6");
            awaitCheckpointAfter(audit, first);
            first.kill9();
            int before = audit.total();
            LOG.info("kill -9 at {} outputs, {} of {} events sent", before, stream.sent(), events);
            ExternalTools.kcatProduce(kafka.bootstrapServers(), settings.topics().text(), "kcat-1",
                    "{\"type\":\"text\",\"version\":1,\"id\":\"kcat-1\",\"text\":\"" + SPAM[0] + "\"}");
            PipelineProcess second = PipelineProcess.start(tmp.resolve("run-1.log"), args);
            started.add(second);
            stream.release();
            List<RecordMetadata> landed = new ArrayList<>(stream.awaitLanded());
            assertThat(audit.awaitTotal(landed.size() + 1, WAIT, a -> { }))
                    .as("all %d inputs out (%s):\n%s", landed.size() + 1, audit.summary(), second.log()).isTrue();
            audit.poll(Duration.ofSeconds(3)); // a duplicate would come late
            assertThat(second.log()).as("the restart resumed and loaded the cached integer model")
                    .contains("resuming from").contains("loading the quantized all-minilm-l6-v2 from the cache")
                    .doesNotContain("quantizing all-minilm-l6-v2");
            // every streamed input once (by source offset), plus the one kcat sent, and nothing else
            assertThat(audit.unreadable()).isEmpty();
            assertThat(audit.duplicates()).isEmpty();
            assertThat(audit.total()).isEqualTo(landed.size() + 1);
            for (RecordMetadata m : landed) {
                assertThat(audit.hasOutputFor(m.topic(), m.partition(), m.offset())).isTrue();
            }
            assertThat(audit.enriched()).filteredOn(e -> e.id().equals("kcat-1")).hasSize(1);
            assertThat(audit.deadLetters()).hasSize(events / 1000);

            int correct = 0;
            int scored = 0;
            for (EnrichedEvent e : audit.enriched()) {
                assertThat(e.scorer()).isEqualTo(new ScorerRef("spam-ham-minilm", "1", ScorerRef.INT8));
                assertThat(e.scores()).hasSize(2);
                assertThat(e.scores().get(0).score() + e.scores().get(1).score()).isCloseTo(1.0,
                        org.assertj.core.api.Assertions.within(1e-6));
                assertThat(e.embedding()).isNull();
                String expected = e.id().equals("kcat-1") ? "spam" : expectedLabel(e.id());
                correct += e.scores().get(0).label().equals(expected) ? 1 : 0;
                scored++;
            }
            assertThat(scored).isEqualTo(events - events / 1000 + 1);
            LOG.info("int8 scorer end to end: {} of {} labels right", correct, scored);
            assertThat((double) correct / scored).as("labels right").isGreaterThanOrEqualTo(MIN_CORRECT);
        } finally {
            started.forEach(PipelineProcess::close);
        }
    }

    private static void awaitOutput(OutputAudit audit, int n, PipelineProcess run) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (audit.total() < n) {
            assertThat(run.isAlive()).as("pipeline alive:\n%s", run.log()).isTrue();
            assertThat(System.nanoTime()).as("%d outputs within %s (%s):\n%s", n, WAIT, audit.summary(), run.log())
                    .isLessThan(deadline);
            audit.poll(Duration.ofMillis(200));
        }
    }

    /** Output visible means a checkpoint completed; wait for more so the kill lands after a second one. */
    private static void awaitCheckpointAfter(OutputAudit audit, PipelineProcess run) {
        awaitOutput(audit, audit.total() + 50, run);
    }
}
