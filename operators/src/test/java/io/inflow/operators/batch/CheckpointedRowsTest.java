package io.inflow.operators.batch;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.operators.embed.BatchOutput;
import io.inflow.operators.embed.EmbeddingEncoding;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.operators.embed.TextEmbedOperatorFactory;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.testing.Harnesses;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ModelRef;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checkpoints do not wait for compute: at the barrier the rows of open batches and of batches still computing go
 * into operator state, and a restored operator batches them again, so every row comes out exactly once across a
 * failure. Watermarks wait behind buffered rows.
 */
@Timeout(120)
class CheckpointedRowsTest {

    private static final int ROWS = 2;

    @BeforeEach
    void reset() {
        Gate.entered = new Semaphore(0);
        Gate.release = new CountDownLatch(1);
    }

    private static OneInputStreamOperatorTestHarness<TokenizedText, EncodedRecord> harness(TextBatchCompute c)
            throws Exception {
        BatchingConfig cfg = new BatchingConfig(ROWS, 4096, Duration.ofSeconds(60), new int[] {8}, 2);
        return new OneInputStreamOperatorTestHarness<>(new TextEmbedOperatorFactory(cfg, c,
                EmbeddingEncoding.FLOAT32, new OutputEncoder(1 << 20)));
    }

    private static StreamRecord<TokenizedText> row(int i) {
        return new StreamRecord<>(PoisonRowTest.text(i, 1000 + i), 100 + i);
    }

    private static List<String> ids(OneInputStreamOperatorTestHarness<TokenizedText, EncodedRecord> h) {
        List<String> out = new ArrayList<>();
        for (EnrichedEvent e : Harnesses.outputs(h)) {
            out.add(e.id());
        }
        return out;
    }

    @Test
    void rowsComputingAndOpenAtTheBarrierAreRestoredAndEmittedExactlyOnce() throws Exception {
        OperatorSubtaskState snapshot;
        var first = harness(new Gate());
        first.open();
        first.processElement(row(0));
        first.processElement(row(1)); // full: batch [t0, t1] goes to compute, which blocks
        assertThat(Gate.entered.tryAcquire(20, TimeUnit.SECONDS)).as("batch 1 computing").isTrue();
        first.processElement(row(2)); // open batch [t2]

        long start = System.nanoTime();
        first.prepareSnapshotPreBarrier(1);
        snapshot = first.snapshot(1, 1);
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        // the barrier did not wait for the blocked batch (it would wait forever): it took what was buffered
        assertThat(ids(first)).as("nothing emitted at the barrier").isEmpty();
        assertThat(tookMs).as("snapshot time (ms) with a batch blocked in compute").isLessThan(10_000);
        first.getOperator().close(); // the task fails: the batch in compute never comes out

        var second = harness(new PoisonRowTest.ProbeCompute());
        second.initializeState(snapshot);
        second.open();
        second.processElement(row(3));
        second.endInput();
        assertThat(ids(second)).as("every row once, in arrival order").containsExactly("t0", "t1", "t2", "t3");
        second.close();
    }

    @Test
    void rowsEmittedBeforeTheBarrierAreNotRestored() throws Exception {
        var first = harness(new PoisonRowTest.ProbeCompute());
        first.open();
        first.processElement(row(0));
        first.processElement(row(1)); // full: computed
        Harnesses.awaitTotal(first, 2, 0); // emitted through the mailbox before the barrier
        first.processElement(row(2));
        OperatorSubtaskState snapshot = first.snapshot(1, 1);
        assertThat(ids(first)).containsExactly("t0", "t1");
        first.getOperator().close();

        var second = harness(new PoisonRowTest.ProbeCompute());
        second.initializeState(snapshot);
        second.open();
        second.endInput();
        assertThat(ids(second)).as("only the row buffered at the barrier").containsExactly("t2");
        second.close();
    }

    @Test
    void aWatermarkWaitsBehindTheRowsThatArrivedBeforeIt() throws Exception {
        var h = harness(new PoisonRowTest.ProbeCompute());
        h.open();
        h.processElement(row(0));
        h.processWatermark(new Watermark(150));
        assertThat(h.getOutput()).as("held behind t0").noneMatch(o -> o instanceof Watermark);
        h.processElement(row(1)); // full: computed, emitted, then the watermark is released
        Harnesses.awaitTotal(h, 2, 0);
        List<Object> out = new ArrayList<>(h.getOutput());
        int wm = -1;
        int lastRecord = -1;
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i) instanceof Watermark) {
                wm = i;
            } else if (out.get(i) instanceof StreamRecord<?> r && r.getValue() instanceof EncodedRecord) {
                if (wm < 0) {
                    lastRecord = i;
                }
            }
        }
        assertThat(wm).as("the watermark came out").isPositive();
        assertThat(lastRecord).as("t0 came out before the watermark").isGreaterThanOrEqualTo(0).isLessThan(wm);
        // with nothing buffered a watermark passes at once
        h.processWatermark(new Watermark(300));
        assertThat(h.getOutput()).filteredOn(o -> o instanceof Watermark).hasSize(2);
        h.close();
    }

    /** Blocks in compute until released (or interrupted, when the task is closed). */
    static final class Gate implements TextBatchCompute {
        static volatile Semaphore entered;
        static volatile CountDownLatch release;

        @Override
        public void open() {
        }

        @Override
        public ModelRef model() {
            return new ModelRef("gate", "1");
        }

        @Override
        public BatchOutput compute(TokenBatch batch) throws InterruptedException {
            entered.release();
            release.await();
            return BatchOutput.withoutEmbeddings(batch.rowCount());
        }
    }
}
