package io.inflow.operators.score;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.head.ClassifierHead;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.embed.BatchOutput;
import io.inflow.operators.embed.EmbeddingEncoding;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.operators.embed.EncoderSpec;
import io.inflow.operators.embed.TextEmbedOperatorFactory;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.testing.Harnesses;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.gpu.text.Tokenized;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.ScorerRef;
import io.inflow.schemas.SourcedText;
import io.inflow.schemas.TextEvent;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The spam/ham scorer after the real MiniLM encoder, at every precision: what it reads (the job's embeddings, its own
 * encoder's, or the integer encoder's, truncated to the scorer's 128 tokens) and what enriched events carry.
 */
@Timeout(300)
class TextScorerTest {

    static final String SPAM = "CONGRATULATIONS! You have been selected to receive a FREE cash prize of $1,000,000."
            + " Click here now to claim your reward before the offer expires. Limited time only!!!";
    static final String HAM = "Hi Tom, the build on the release branch failed again last night. I think the new"
            + " test needs the updated config file; can you check it in before the meeting tomorrow?";
    /** Float summation order differs between a padded batch and a re-encoded row: the same embedding within this. */
    private static final double SAME_EMBEDDING = 1e-5;

    private static ScorerSpec spec(String precision, Path cache) {
        return new ScorerSpec("spam-ham-minilm", precision, null, cache == null ? null : cache.toString(), 0.85, 2);
    }

    /** A text over the scorer's 128 tokens: the ham text, then spam words the 128-token cut drops. */
    private static String longText() {
        return (HAM + " ").repeat(4) + (SPAM + " ").repeat(6);
    }

    @Test
    void float32ReusesTheJobsEmbeddingsAndReencodesOnlyRowsPastTheScorersLimit() throws Exception {
        EncoderSpec job = EncoderSpec.defaults(TextModel.ALL_MINILM_L6_V2, 2, 512);
        EncoderCompute compute = new EncoderCompute(job, null, spec(ScorerRef.FLOAT32, null));
        ClassifierHead head = ClassifierHead.fromResource("models/spam-ham-minilm");
        try (BufferAllocator alloc = new RootAllocator();
             TextTokenizer tok512 = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 512);
             TextTokenizer tok128 = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 128);
             TokenBatch batch = new TokenBatch(alloc, 512, 4);
             TokenBatch cut = new TokenBatch(alloc, 128, 1)) {
            compute.open();
            batch.append(tok512.encode(SPAM).ids(), false);
            batch.append(tok512.encode(HAM).ids(), false);
            batch.append(tok512.encode(longText()).ids(), false);
            assertThat(batch.tokenCount(2)).as("the long text is past 128 tokens").isGreaterThan(128);
            BatchOutput out = compute.compute(batch);
            ScoredRows s = out.scores();
            assertThat(s.scorer()).isEqualTo(new ScorerRef("spam-ham-minilm", "1", "float32"));
            assertThat(s.top(0)).isEqualTo("spam");
            assertThat(s.top(1)).isEqualTo("ham");
            // short rows: exactly the head on the job's own embeddings
            float[] direct = head.scores(java.util.Arrays.copyOf(out.embeddings(), 2 * 384), 2);
            for (int i = 0; i < 4; i++) {
                assertThat(s.probabilities()[i]).isEqualTo(direct[i]);
            }
            // the long row: scored on its first 128 tokens (as the head was trained), not on the job's 512
            cut.append(tok128.encode(longText()).ids(), true);
            float[] truncated = compute.compute(cut).embeddings();
            float[] onTruncated = head.scores(truncated, 1);
            float[] onFull = head.scores(out.row(2), 1);
            assertThat((double) s.probabilities()[5]).isCloseTo(onTruncated[1], within(SAME_EMBEDDING));
            assertThat(Math.abs(onFull[1] - onTruncated[1])).as("negative control: the 512-token embedding scores"
                    + " differently, so reading it would fail the line above").isGreaterThan(0.05f);
        } finally {
            compute.close();
        }
    }

    @Test
    void float32RunsItsOwnEncoderWhenTheJobsEmbeddingsAreNotTheHeadsInput() throws Exception {
        // the job pools CLS; the head was trained on mean-pooled embeddings
        EncoderSpec job = new EncoderSpec(TextModel.ALL_MINILM_L6_V2, PoolingMode.CLS, true,
                io.inflow.gpu.head.HeadType.NONE, null, false, null, io.inflow.gpu.backend.BackendKind.CPU, 2, 128,
                io.inflow.gpu.backend.cuda.CudaBackendConfig.defaults());
        EncoderCompute compute = new EncoderCompute(job, null, spec(ScorerRef.FLOAT32, null));
        EncoderCompute mean = new EncoderCompute(EncoderSpec.defaults(TextModel.ALL_MINILM_L6_V2, 2, 128));
        ClassifierHead head = ClassifierHead.fromResource("models/spam-ham-minilm");
        try (BufferAllocator alloc = new RootAllocator();
             TextTokenizer tok = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 128);
             TokenBatch batch = new TokenBatch(alloc, 128, 2)) {
            compute.open();
            mean.open();
            batch.append(tok.encode(SPAM).ids(), false);
            batch.append(tok.encode(HAM).ids(), false);
            BatchOutput out = compute.compute(batch);
            float[] expected = head.scores(mean.compute(batch).embeddings(), 2);
            float[] onCls = head.scores(out.embeddings(), 2);
            for (int i = 0; i < 4; i++) {
                assertThat((double) out.scores().probabilities()[i]).isCloseTo(expected[i], within(SAME_EMBEDDING));
            }
            assertThat(Math.abs(onCls[1] - expected[1]) + Math.abs(onCls[3] - expected[3]))
                    .as("negative control: the head on the job's CLS embeddings scores differently").isGreaterThan(0.05f);
        } finally {
            compute.close();
            mean.close();
        }
    }

    @Test
    void int8ScoresWithTheIntegerEncoderAndCachesTheQuantizedModel(@TempDir Path cache) throws Exception {
        EncoderSpec job = EncoderSpec.defaults(TextModel.ALL_MINILM_L6_V2, 2, 128);
        EncoderCompute compute = new EncoderCompute(job, null, spec(ScorerRef.INT8, cache));
        float[] first;
        float[] floatScores;
        try (BufferAllocator alloc = new RootAllocator();
             TextTokenizer tok = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 128);
             TokenBatch batch = new TokenBatch(alloc, 128, 2)) {
            batch.append(tok.encode(SPAM).ids(), false);
            batch.append(tok.encode(HAM).ids(), false);
            try {
                compute.open();
                BatchOutput out = compute.compute(batch);
                assertThat(out.scores().scorer().precision()).isEqualTo("int8");
                assertThat(out.scores().top(0)).isEqualTo("spam");
                assertThat(out.scores().top(1)).isEqualTo("ham");
                first = out.scores().probabilities();
                floatScores = ClassifierHead.fromResource("models/spam-ham-minilm").scores(out.embeddings(), 2);
            } finally {
                compute.close();
            }
            try (var dirs = Files.list(cache)) {
                List<Path> made = dirs.toList();
                assertThat(made).as("one quantized model in the cache, no temporary left").hasSize(1);
                assertThat(made.get(0).getFileName().toString()).startsWith("all-minilm-l6-v2-int8-t128-");
                assertThat(made.get(0).resolve("model.safetensors")).isRegularFile();
            }
            // a second scorer loads the cached model (no quantizing) and scores bit for bit the same
            EncoderCompute again = new EncoderCompute(job, null, spec(ScorerRef.INT8, cache));
            try {
                again.open();
                assertThat(again.compute(batch).scores().probabilities()).isEqualTo(first);
            } finally {
                again.close();
            }
        }
        // the integer encoder is not the float one: close to it (same labels above), not equal
        assertThat(first).isNotEqualTo(floatScores);
        for (int i = 0; i < first.length; i++) {
            assertThat((double) first[i]).as("INT8 vs float probability %d", i)
                    .isCloseTo(floatScores[i], within(0.1));
        }
    }

    @Test
    void enrichedEventsCarryTheScoresHighestFirstAndTheScorer() throws Exception {
        BatchingConfig cfg = new BatchingConfig(4, 4096, Duration.ofMillis(50), new int[] {64, 128}, 2);
        EncoderCompute compute = new EncoderCompute(EncoderSpec.defaults(TextModel.ALL_MINILM_L6_V2, 2, 128), null,
                spec(ScorerRef.FLOAT32, null));
        try (TextTokenizer tok = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 128);
             OneInputStreamOperatorTestHarness<TokenizedText, EncodedRecord> harness =
                     new OneInputStreamOperatorTestHarness<>(new TextEmbedOperatorFactory(cfg, compute,
                             EmbeddingEncoding.OMIT, new OutputEncoder(1 << 20)))) {
            harness.open();
            double spamBefore = scored("float32", "spam");
            double hamBefore = scored("float32", "ham");
            harness.processElement(text(tok, "s", SPAM, 1));
            harness.processElement(text(tok, "h", HAM, 2));
            harness.endInput();
            List<EnrichedEvent> out = Harnesses.awaitOutputs(harness, 2);
            assertThat(out).extracting(EnrichedEvent::id).containsExactly("s", "h");
            for (EnrichedEvent e : out) {
                assertThat(e.scorer()).isEqualTo(new ScorerRef("spam-ham-minilm", "1", "float32"));
                assertThat(e.scores()).hasSize(2);
                assertThat(e.scores().get(0).score()).isGreaterThanOrEqualTo(e.scores().get(1).score());
                assertThat(e.scores().get(0).score() + e.scores().get(1).score()).isCloseTo(1.0, within(1e-6));
                assertThat(e.embedding()).as("embeddings omitted, scores still there").isNull();
            }
            assertThat(out.get(0).scores().get(0).label()).isEqualTo("spam");
            assertThat(out.get(1).scores().get(0).label()).isEqualTo("ham");
            assertThat(scored("float32", "spam") - spamBefore).as("inflow_scored_records_total, spam").isEqualTo(1);
            assertThat(scored("float32", "ham") - hamBefore).as("inflow_scored_records_total, ham").isEqualTo(1);
        }
    }

    /** {@code inflow_scored_records_total} of the bundled scorer at {@code precision} for {@code label}, all jobs. */
    private static double scored(String precision, String label) {
        return io.inflow.operators.metrics.InflowMetrics.SCORED.collect().getDataPoints().stream()
                .filter(d -> "spam-ham-minilm".equals(d.getLabels().get("scorer"))
                        && precision.equals(d.getLabels().get("precision")) && label.equals(d.getLabels().get("label")))
                .mapToDouble(d -> d.getValue()).sum();
    }

    private static StreamRecord<TokenizedText> text(TextTokenizer tok, String id, String text, long offset) {
        Tokenized t = tok.encode(text);
        SourcedText input = new SourcedText(new TextEvent(id, text, "en", null, Map.of()),
                new RawRecord("events.text", 0, offset, 1000 + offset, id.getBytes(StandardCharsets.UTF_8),
                        text.getBytes(StandardCharsets.UTF_8)));
        return new StreamRecord<>(new TokenizedText(input, t.ids(), t.truncated()), 1000 + offset);
    }
}
