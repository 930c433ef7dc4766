package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.testing.Harnesses;
import io.inflow.schemas.RawRecord;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.Float16;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.SourceRef;
import io.inflow.schemas.SourcedText;
import io.inflow.schemas.TextEvent;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The batching operator under Flink's harness with virtual processing time. */
@Timeout(120)
class TextEmbedOperatorTest {

    private static final long MAX_WAIT_MS = 50;

    private OneInputStreamOperatorTestHarness<TokenizedText, EncodedRecord> harness;

    @BeforeEach
    void resetShapes() {
        RecordingCompute.SHAPES.clear();
    }

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close(); // closes the operator's Arrow allocator: fails on a leaked batch
        }
    }

    private static TextTokenizer tokenizer;

    @BeforeAll
    static void loadTokenizer() {
        tokenizer = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 64);
    }

    @AfterAll
    static void closeTokenizer() {
        tokenizer.close();
    }

    private void open(int maxRecords, int[] buckets, TextBatchCompute compute) throws Exception {
        open(maxRecords, buckets, compute, EmbeddingEncoding.FLOAT32);
    }

    private void open(int maxRecords, int[] buckets, TextBatchCompute compute, EmbeddingEncoding encoding)
            throws Exception {
        BatchingConfig cfg = new BatchingConfig(maxRecords, 4096, Duration.ofMillis(MAX_WAIT_MS), buckets, 2);
        harness = new OneInputStreamOperatorTestHarness<>(new TextEmbedOperatorFactory(cfg, compute, encoding,
                new OutputEncoder(1 << 20)));
        harness.open();
    }

    private void openDefault(int maxRecords) throws Exception {
        open(maxRecords, new int[] {16, 32, 64}, new RecordingCompute());
    }

    /** A text tokenized as the tokenize step would, with its Kafka coordinates. */
    private static StreamRecord<TokenizedText> text(String id, String text, long offset) {
        Tokenized t = tokenizer.encode(text);
        SourcedText input = new SourcedText(new TextEvent(id, text, "en", null, Map.of("k", id)),
                new RawRecord("events.text", 0, offset, 1000 + offset, id.getBytes(StandardCharsets.UTF_8),
                        text.getBytes(StandardCharsets.UTF_8)));
        return new StreamRecord<>(new TokenizedText(input, t.ids(), t.truncated()), 1000 + offset);
    }

    private List<EnrichedEvent> outputs() {
        return Harnesses.outputs(harness);
    }

    private List<EnrichedEvent> awaitOutputs(int n) throws Exception {
        return Harnesses.awaitOutputs(harness, n);
    }

    @Test
    void flushesWhenTheBatchIsFullAndKeepsOrderAndSource() throws Exception {
        openDefault(2);
        harness.processElement(text("a", "A man is eating food.", 7));
        harness.processElement(text("b", "A man is eating a piece of bread.", 8));
        List<EnrichedEvent> out = awaitOutputs(2);
        // SHAPES is written on the compute thread before the batch's result is put into the mailbox, and
        // awaitOutputs ran that mail here: so it holds every batch computed so far. One 2-row batch means "a" alone
        // did not fill it (a flush after "a" would show as two 1-row batches).
        assertThat(RecordingCompute.SHAPES).as("a and b in one batch").containsExactly("2x16");
        assertThat(out).extracting(EnrichedEvent::id).containsExactly("a", "b");
        assertThat(out.get(0).tokenCount()).isEqualTo(8);   // [CLS] a man is eating food . [SEP]
        assertThat(out.get(1).tokenCount()).isEqualTo(11);
        assertThat(out.get(0).source()).isEqualTo(new SourceRef("events.text", 0, 7, 1007));
        assertThat(out.get(0).attributes()).containsEntry("k", "a");
        assertThat(out.get(0).model()).isEqualTo(new ModelRef("all-minilm-l6-v2", "recording"));
        assertThat(out.get(0).truncated()).isFalse();
    }

    @Test
    void flushesAfterMaxWaitInProcessingTime() throws Exception {
        openDefault(64);
        harness.setProcessingTime(0);
        long flushed = Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY);
        harness.processElement(text("a", "hello world", 1));
        harness.setProcessingTime(MAX_WAIT_MS - 1);
        // counted on this thread at the hand-over to compute, so no mailbox run is needed to see a flush
        assertThat(Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY)).as("before max-wait nothing is flushed")
                .isEqualTo(flushed);
        harness.processElement(text("b", "hello again", 2));
        harness.setProcessingTime(MAX_WAIT_MS);
        assertThat(awaitOutputs(2)).extracting(EnrichedEvent::id).containsExactly("a", "b");
        assertThat(RecordingCompute.SHAPES).as("nothing flushed before max-wait: b joined a's batch")
                .containsExactly("2x16");
    }

    @Test
    void aCheckpointDoesNotFlushOpenBatches() throws Exception {
        // buffered rows go into state instead (CheckpointedRowsTest restores them)
        openDefault(64);
        harness.processElement(text("a", "hello world", 1));
        harness.processElement(text("b", "hello again", 2));
        long flushed = Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY);
        harness.prepareSnapshotPreBarrier(1);
        harness.snapshot(1, 10);
        assertThat(Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY)).isEqualTo(flushed);
        assertThat(outputs()).isEmpty();
        harness.endInput();
        assertThat(outputs()).extracting(EnrichedEvent::id).containsExactly("a", "b");
    }

    @Test
    void flushesAtEndOfInput() throws Exception {
        openDefault(64);
        harness.processElement(text("a", "hello world", 1));
        harness.endInput();
        assertThat(outputs()).extracting(EnrichedEvent::id).containsExactly("a");
    }

    @Test
    void groupsTextsByTokenLengthBucket() throws Exception {
        openDefault(64);
        harness.processElement(text("short1", "short text", 1));
        harness.processElement(text("long", "this sentence is clearly long enough to need more than sixteen word"
                + " piece tokens in total", 2));
        harness.processElement(text("short2", "another short one", 3));
        harness.endInput();
        assertThat(RecordingCompute.SHAPES).containsExactlyInAnyOrder("2x16", "1x32");
        assertThat(outputs()).extracting(EnrichedEvent::id).containsExactlyInAnyOrder("short1", "short2", "long");
    }

    @Test
    void carriesTheTruncationFlagThrough() throws Exception {
        open(64, new int[] {8, 64}, new RecordingCompute());
        int[] ids = new int[64];
        ids[0] = 101;
        ids[63] = 102;
        SourcedText input = new SourcedText(new TextEvent("t", "long", "en", null, Map.of()),
                new RawRecord("events.text", 0, 1, 1, null, new byte[] {1}));
        harness.processElement(new StreamRecord<>(new TokenizedText(input, ids, true), 1));
        harness.endInput();
        EnrichedEvent e = outputs().get(0);
        assertThat(e.truncated()).isTrue();
        assertThat(e.tokenCount()).isEqualTo(64);
    }

    @Test
    void attachesEmbeddingsFromCompute() throws Exception {
        open(64, new int[] {16}, new FirstTokenEmbeddingCompute());
        harness.processElement(text("a", "a", 1));
        harness.endInput();
        EnrichedEvent e = outputs().get(0);
        assertThat(e.embeddingDim()).isEqualTo(2);
        assertThat(e.embedding()).containsExactly(101f, 3f);  // [CLS] id, token count of "[CLS] a [SEP]"
    }

    @Test
    void encodesEmbeddingsAsBase64HalfFloatsWhenAsked() throws Exception {
        open(64, new int[] {16}, new FirstTokenEmbeddingCompute(), EmbeddingEncoding.FLOAT16_BASE64);
        harness.processElement(text("a", "a", 1));
        harness.endInput();
        EnrichedEvent e = outputs().get(0);
        assertThat(e.embedding()).isNull();
        assertThat(e.embeddingDim()).isEqualTo(2);
        // 101 and 3 are exact in float16
        assertThat(Float16.decodeBase64(e.embeddingF16Base64())).containsExactly(101f, 3f);
    }

    @Test
    void omitsEmbeddingsWhenAsked() throws Exception {
        open(64, new int[] {16}, new FirstTokenEmbeddingCompute(), EmbeddingEncoding.OMIT);
        harness.processElement(text("a", "a", 1));
        harness.endInput();
        EnrichedEvent e = outputs().get(0);
        assertThat(e.embedding()).isNull();
        assertThat(e.embeddingF16Base64()).isNull();
        assertThat(e.tokenCount()).isEqualTo(3);
    }

    @Test
    void aSystemicComputeFailureFailsTheTaskWithTheBatchShape() throws Exception {
        // an InternalError is the JVM's (or a native library's) fault, never a record's: no bisecting, no dead letter
        open(1, new int[] {16}, new FailingCompute(() -> new InternalError("device lost")));
        harness.processElement(text("a", "boom", 1));
        assertThatThrownBy(() -> awaitOutputs(1))
                .hasMessageContaining("compute failed on a batch of 1 rows x 16 tokens")
                .hasRootCauseMessage("device lost");
        assertThat(Harnesses.deadLetters(harness)).isEmpty();
    }

    @Test
    void aRecordThatFailsComputeOnItsOwnIsDeadLetteredNotFatal() throws Exception {
        open(1, new int[] {16}, new FailingCompute(() -> new IllegalStateException("cannot embed this")));
        harness.processElement(text("a", "boom", 1));
        Harnesses.awaitTotal(harness, 0, 1);
        assertThat(Harnesses.deadLetters(harness)).singleElement().satisfies(d -> {
            assertThat(d.kind()).isEqualTo(ErrorKind.COMPUTE_FAILED);
            assertThat(d.message()).contains("cannot embed this");
            assertThat(d.source().offset()).isEqualTo(1);
        });
        assertThat(outputs()).isEmpty();
    }

    @Test
    void aTextLongerThanTheLongestBucketFailsWithWhatToChange() throws Exception {
        open(64, new int[] {8}, new RecordingCompute());
        assertThatThrownBy(() -> harness.processElement(text("x", "a sentence with more than eight tokens in it",
                1))).hasMessageContaining("do not fit the longest length bucket 8");
    }

    /** Records each batch's shape ("rows x seqLen"); emits no embedding. */
    static final class RecordingCompute implements TextBatchCompute {
        static final ConcurrentLinkedQueue<String> SHAPES = new ConcurrentLinkedQueue<>();

        @Override
        public void open() {
        }

        @Override
        public ModelRef model() {
            return new ModelRef("all-minilm-l6-v2", "recording");
        }

        @Override
        public BatchOutput compute(TokenBatch batch) {
            SHAPES.add(batch.rowCount() + "x" + batch.seqLen());
            return BatchOutput.withoutEmbeddings(batch.rowCount());
        }
    }

    /** A 2-d "embedding" read back from the Arrow batch: (first token id, token count). */
    static final class FirstTokenEmbeddingCompute implements TextBatchCompute {
        @Override
        public void open() {
        }

        @Override
        public ModelRef model() {
            return new ModelRef("probe", "1");
        }

        @Override
        public BatchOutput compute(TokenBatch batch) {
            float[] out = new float[batch.rowCount() * 2];
            for (int r = 0; r < batch.rowCount(); r++) {
                out[2 * r] = batch.inputIdsBuffer().getInt((long) r * batch.seqLen() * Integer.BYTES);
                out[2 * r + 1] = batch.tokenCount(r);
            }
            return BatchOutput.embeddings(batch.rowCount(), 2, out);
        }
    }

    static final class FailingCompute implements TextBatchCompute {
        private final java.util.function.Supplier<? extends Throwable> failure;

        FailingCompute(SerializableFailure failure) {
            this.failure = failure;
        }

        @Override
        public void open() {
        }

        @Override
        public ModelRef model() {
            return new ModelRef("failing", "1");
        }

        @Override
        public BatchOutput compute(TokenBatch batch) {
            Throwable t = failure.get();
            if (t instanceof Error e) {
                throw e;
            }
            throw (RuntimeException) t;
        }
    }

    /** A failure factory the (serializable) compute can hold. */
    interface SerializableFailure extends java.util.function.Supplier<Throwable>, java.io.Serializable {
    }
}
