package io.inflow.e2e;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.operators.embed.BatchOutput;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ModelRef;

import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Record-level faults through the whole pipeline, a real Kafka broker and a Flink MiniCluster, none of which may
 * restart the job: a poison row inside a batch of good rows (compute throws on it), and an input the broker accepts
 * that is far above the record limit, written with kcat as a user would. Every input must end exactly once in
 * {@code enriched} or {@code dlq} (read_committed), and Flink's REST API must report 0 restarts.
 */
@Timeout(600)
class RecordFaultsTest {

    private static final Duration OUTPUT_WAIT = Duration.ofMinutes(3);
    /** Token the poison compute throws on (a word in none of the good texts). */
    private static int poisonToken;
    private static PipelineUnderTest pipeline;

    @BeforeAll
    static void start() throws Exception {
        try (TextTokenizer t = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 16)) {
            poisonToken = t.encode("xylophone").ids()[1];
        }
        PoisonCompute.reset(poisonToken);
        Configuration conf = new Configuration();
        conf.setString("inflow.image.enabled", "false");
        conf.setString("inflow.text.compute", "TOKENS");
        conf.setString("inflow.batch.max-records", "32");
        conf.setString("inflow.batch.max-wait", "300 ms");
        // no restart allowed: a restart would hide a fault that failed the task
        conf.setString("restart-strategy.type", "none");
        pipeline = PipelineUnderTest.start(conf, UnaryOperator.identity(), PoisonCompute::new);
    }

    @AfterAll
    static void stop() throws Exception {
        if (pipeline != null) {
            pipeline.close();
        }
    }

    private static byte[][] text(String key, String text) {
        return new byte[][] {PipelineUnderTest.utf8(key), PipelineUnderTest.utf8(
                "{\"type\":\"text\",\"version\":1,\"id\":\"" + key + "\",\"text\":\"" + text + "\"}")};
    }

    @Test
    void aPoisonRowInsideABatchIsDeadLetteredAndTheGoodRowsComeOut() throws Exception {
        List<byte[][]> inputs = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            inputs.add(i == 60 ? text("poison-1", "the xylophone makes compute throw")
                    : text("good-" + i, "an ordinary sentence number " + i));
        }
        try (OutputAudit audit = pipeline.audit()) {
            List<RecordMetadata> landed = pipeline.produce(inputs);
            assertThat(audit.awaitTotal(inputs.size(), OUTPUT_WAIT, a -> { }))
                    .as("every input out (%s)", audit.summary()).isTrue();
            audit.poll(Duration.ofSeconds(2)); // a duplicate would arrive late

            assertThat(audit.duplicates()).isEmpty();
            assertThat(audit.total()).isEqualTo(inputs.size());
            for (RecordMetadata m : landed) {
                assertThat(audit.hasOutputFor(m.topic(), m.partition(), m.offset())).isTrue();
            }
            List<DeadLetterRecord> dead = audit.deadLetters().stream()
                    .filter(d -> d.kind() == ErrorKind.COMPUTE_FAILED).toList();
            assertThat(dead).singleElement().satisfies(d -> {
                assertThat(d.key()).isEqualTo(inputs.get(60)[0]);
                assertThat(d.value()).isEqualTo(inputs.get(60)[1]);
                assertThat(d.stage()).isEqualTo("compute");
                assertThat(d.message()).contains("poison");
            });
            assertThat(audit.enriched()).extracting(EnrichedEvent::id).doesNotContain("poison-1")
                    .contains("good-59", "good-61");
        }
        // negative control: the poison row really shared a batch with good rows (else nothing was bisected)
        assertThat(PoisonCompute.FIRST_POISONED_BATCH_ROWS.get()).as("rows of the first batch holding the poison")
                .isGreaterThan(1);
        assertThat(pipeline.restarts()).as("restarts (Flink REST)").isZero();
    }

    @Test
    void aHugeInputTheBrokerAcceptsLeavesADeadLetterThatFitsAndTheNextRecordIsEnriched(@TempDir Path dir)
            throws Exception {
        ExternalTools.requireOnPath("kcat");
        // 12 MiB: 12 times the record limit, under the broker's 16 MiB; its whole dead letter (base64: 16 MiB) would
        // not fit any topic of this broker, so only a cut dead letter can be written
        byte[] huge = new byte[12 << 20];
        new Random(7).nextBytes(huge);
        Path hugeFile = dir.resolve("huge.bin");
        Files.write(hugeFile, huge);
        Path goodFile = dir.resolve("good.json");
        Files.write(goodFile, text("after-huge", "the record right after the huge one")[1]);
        String bootstrap = pipeline.kafka.bootstrapServers();
        String topic = pipeline.settings.topics().text();
        try (OutputAudit audit = pipeline.audit()) {
            int before = countTotal(audit);
            kcat("-P", "-b", bootstrap, "-t", topic, "-p", "0", "-k", "huge-1", "-X", "message.max.bytes=16777216",
                    hugeFile.toString());
            kcat("-P", "-b", bootstrap, "-t", topic, "-p", "0", "-k", "after-huge", goodFile.toString());

            assertThat(audit.awaitTotal(before + 2, OUTPUT_WAIT, a -> { })).as(audit.summary()).isTrue();
            DeadLetterRecord d = audit.deadLetters().stream()
                    .filter(x -> x.key() != null && new String(x.key()).equals("huge-1")).findFirst().orElseThrow();
            assertThat(d.kind()).isEqualTo(ErrorKind.OVERSIZE_RECORD);
            assertThat(d.truncation()).as("the dead letter says it was cut").isNotNull();
            assertThat(d.truncation().valueSize()).isEqualTo(huge.length);
            assertThat(d.truncation().valueSha256()).isEqualTo(
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(huge)));
            int keep = pipeline.settings.sinkLimits().deadLetterMaxOriginalBytes();
            assertThat(d.originalBytes()).isEqualTo(keep);
            assertThat(d.value()).isEqualTo(Arrays.copyOf(huge, keep - "huge-1".length()));
            assertThat(audit.enriched()).extracting(EnrichedEvent::id).contains("after-huge");
        }
        assertThat(pipeline.restarts()).as("restarts (Flink REST)").isZero();
    }

    private static int countTotal(OutputAudit audit) {
        audit.poll(Duration.ofSeconds(2));
        return audit.total();
    }

    private static void kcat(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("kcat"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("kcat %s: %s", cmd, out).isZero();
    }

    /** Passes batches to the real compute, but throws for any batch holding the poison token (MiniCluster: one JVM). */
    static final class PoisonCompute implements TextBatchCompute {
        static final AtomicInteger FIRST_POISONED_BATCH_ROWS = new AtomicInteger();
        private static volatile int token;
        private final TextBatchCompute delegate;

        PoisonCompute(TextBatchCompute delegate) {
            this.delegate = delegate;
        }

        static void reset(int poisonToken) {
            token = poisonToken;
            FIRST_POISONED_BATCH_ROWS.set(0);
        }

        @Override
        public void open() throws Exception {
            delegate.open();
        }

        @Override
        public ModelRef model() {
            return delegate.model();
        }

        @Override
        public String backend() {
            return delegate.backend();
        }

        @Override
        public BatchOutput compute(TokenBatch batch) throws Exception {
            for (int r = 0; r < batch.rowCount(); r++) {
                for (int p = 0; p < batch.tokenCount(r); p++) {
                    if (batch.tokenId(r, p) == token) {
                        FIRST_POISONED_BATCH_ROWS.compareAndSet(0, batch.rowCount());
                        throw new IllegalStateException("poison token " + token + " in row " + r);
                    }
                }
            }
            return delegate.compute(batch);
        }

        @Override
        public void close() throws Exception {
            delegate.close();
        }
    }
}
