package io.inflow.operators.batch;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.operators.embed.BatchOutput;
import io.inflow.operators.embed.EmbeddingEncoding;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.operators.embed.TextEmbedOperatorFactory;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.testing.Harnesses;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.SourcedText;
import io.inflow.schemas.TextEvent;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Record-level faults inside the batching operator, under Flink's harness: a poison row inside a batch of good rows
 * (the batch is bisected, the good rows come out, the poison row is dead-lettered with its original bytes), a row
 * whose output is NaN, an event too large for the sink, a text the tokenizer failed on, and the systemic case where
 * every row fails (the task must fail instead of dead-lettering everything).
 */
class PoisonRowTest {

    /** First real token id of a row that makes compute throw for any batch holding it. */
    static final int POISON = 666;
    /** First real token id of a row whose embedding comes out NaN. */
    static final int NAN = 777;
    static final int ROWS = 16;

    private OneInputStreamOperatorTestHarness<TokenizedText, EncodedRecord> harness;

    @BeforeEach
    void reset() {
        ProbeCompute.BATCH_SIZES.clear();
        ProbeCompute.ALWAYS_FAIL = false;
    }

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close(); // closes the operator's Arrow allocator: fails on a leaked (bisected) batch
        }
    }

    private void open(int maxRequestBytes) throws Exception {
        BatchingConfig cfg = new BatchingConfig(ROWS, 4096, Duration.ofSeconds(60), new int[] {8}, 2);
        harness = new OneInputStreamOperatorTestHarness<>(new TextEmbedOperatorFactory(cfg, new ProbeCompute(),
                EmbeddingEncoding.FLOAT32, new OutputEncoder(maxRequestBytes)));
        harness.open();
    }

    /** A tokenized text {@code [CLS] firstId [SEP]} with its raw Kafka record (key = id, value = some JSON). */
    static TokenizedText text(int i, int firstId) {
        String id = "t" + i;
        RawRecord raw = new RawRecord("events.text", 0, i, 1000 + i, id.getBytes(StandardCharsets.UTF_8),
                ("{\"id\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8));
        SourcedText in = new SourcedText(new TextEvent(id, "text " + i, "en", null, Map.of()), raw);
        return new TokenizedText(in, new int[] {101, firstId, 102}, false);
    }

    private void feedBatch(int poisonAt, int firstIdAtPoison) throws Exception {
        for (int i = 0; i < ROWS; i++) {
            harness.processElement(new StreamRecord<>(text(i, i == poisonAt ? firstIdAtPoison : 1000 + i), 1000 + i));
        }
    }

    @Test
    void aPoisonRowIsBisectedOutAndEveryOtherRowIsEmitted() throws Exception {
        open(1 << 20);
        feedBatch(5, POISON);
        Harnesses.awaitTotal(harness, ROWS - 1, 1);

        List<EnrichedEvent> out = Harnesses.outputs(harness);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            if (i != 5) {
                expected.add("t" + i);
            }
        }
        assertThat(out).extracting(EnrichedEvent::id).as("good rows, in row order").containsExactlyElementsOf(
                expected);
        for (EnrichedEvent e : out) {
            int i = Integer.parseInt(e.id().substring(1));
            assertThat(e.embedding()).as("row %s computed on its own data", e.id()).containsExactly(1000 + i, 3);
        }
        // enriched records are keyed by the input's Kafka key
        assertThat(Harnesses.records(harness)).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
                .containsExactlyElementsOf(expected);

        DeadLetterRecord dead = Harnesses.deadLetters(harness).get(0);
        assertThat(dead.kind()).isEqualTo(ErrorKind.COMPUTE_FAILED);
        assertThat(dead.stage()).isEqualTo("compute");
        assertThat(dead.source().offset()).isEqualTo(5);
        assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo("t5");
        assertThat(new String(dead.value(), StandardCharsets.UTF_8)).isEqualTo("{\"id\":\"t5\"}");
        assertThat(dead.message()).contains("poison row").contains("bisecting its batch of 16 rows");
        // depth first: 16 fails; rows 0-7 fail; 0-3 pass; 4-7 fail; 4-5 fail; 4 passes; 5 fails alone; 6-7 and
        // 8-15 pass: two halves per level down to the row, 9 calls over 46 rows
        assertThat(ProbeCompute.BATCH_SIZES).containsExactly(16, 8, 4, 4, 2, 1, 1, 2, 8);
    }

    @Test
    void aNonFiniteRowIsDeadLetteredWithoutBisecting() throws Exception {
        open(1 << 20);
        feedBatch(9, NAN);
        Harnesses.awaitTotal(harness, ROWS - 1, 1);

        assertThat(Harnesses.outputs(harness)).extracting(EnrichedEvent::id).doesNotContain("t9").hasSize(ROWS - 1);
        DeadLetterRecord dead = Harnesses.deadLetters(harness).get(0);
        assertThat(dead.kind()).isEqualTo(ErrorKind.NON_FINITE_OUTPUT);
        assertThat(dead.source().offset()).isEqualTo(9);
        assertThat(ProbeCompute.BATCH_SIZES).containsExactly(16);
    }

    @Test
    void anEventTooLargeForTheSinkIsDeadLetteredAsOutputTooLarge() throws Exception {
        // a 300-byte limit: the JSON of these events (~250-300 bytes with the key) fits for short ids only
        OutputEncoder probe = new OutputEncoder(1 << 20);
        open(OutputEncoder.RECORD_OVERHEAD_BYTES + 1);
        feedBatch(-1, 0);
        Harnesses.awaitTotal(harness, 0, ROWS);

        assertThat(Harnesses.records(harness)).isEmpty();
        assertThat(Harnesses.deadLetters(harness)).hasSize(ROWS).allSatisfy(d -> {
            assertThat(d.kind()).isEqualTo(ErrorKind.OUTPUT_TOO_LARGE);
            assertThat(d.stage()).isEqualTo(OutputEncoder.STAGE);
            assertThat(d.message()).contains("over the 1 the sink accepts");
        });
        assertThat(probe.maxRecordBytes()).isGreaterThan(1000); // the same events fit a 1 MiB request
    }

    @Test
    void aTextTheTokenizerFailedOnIsDeadLetteredAndNeverBatched() throws Exception {
        open(1 << 20);
        TokenizedText failed = TokenizedText.failed(text(3, 0).input(), "tokenizer exploded");
        harness.processElement(new StreamRecord<>(failed, 7));
        assertThat(Harnesses.deadLetters(harness)).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(ErrorKind.TOKENIZE_FAILED);
            assertThat(d.stage()).isEqualTo("tokenize");
            assertThat(d.message()).isEqualTo("tokenizer exploded");
            assertThat(d.source().offset()).isEqualTo(3);
        });
        harness.endInput();
        assertThat(ProbeCompute.BATCH_SIZES).as("never reached compute").isEmpty();
    }

    @Test
    void whenEveryRowFailsOnItsOwnTheTaskFailsInsteadOfDeadLetteringEverything() throws Exception {
        open(1 << 20);
        ProbeCompute.ALWAYS_FAIL = true;
        feedBatch(-1, 0);
        assertThatThrownBy(() -> Harnesses.awaitTotal(harness, 1, 0))
                .hasStackTraceContaining("rows in a row, each on its own")
                .hasStackTraceContaining("the model or device is broken");
        assertThat(Harnesses.deadLetters(harness)).as("dead-lettered before the breaker tripped")
                .hasSizeLessThan(BisectingRunner.SYSTEMIC_ROW_FAILURES);
        assertThat(Harnesses.records(harness)).isEmpty();
    }

    /**
     * Embeds each row as (first real token id, token count); throws for any batch holding a {@link #POISON} row (or
     * any batch at all when {@link #ALWAYS_FAIL}); NaN for a {@link #NAN} row.
     */
    static final class ProbeCompute implements TextBatchCompute {
        static final ConcurrentLinkedQueue<Integer> BATCH_SIZES = new ConcurrentLinkedQueue<>();
        static volatile boolean ALWAYS_FAIL;

        @Override
        public void open() {
        }

        @Override
        public ModelRef model() {
            return new ModelRef("probe", "1");
        }

        @Override
        public BatchOutput compute(TokenBatch batch) {
            BATCH_SIZES.add(batch.rowCount());
            float[] out = new float[batch.rowCount() * 2];
            for (int r = 0; r < batch.rowCount(); r++) {
                int first = batch.tokenId(r, 1);
                if (first == POISON || ALWAYS_FAIL) {
                    throw new IllegalStateException("poison row in this batch");
                }
                out[2 * r] = first == NAN ? Float.NaN : first;
                out[2 * r + 1] = batch.tokenCount(r);
            }
            return BatchOutput.embeddings(batch.rowCount(), 2, out);
        }
    }
}
