package io.inflow.operators.batch;

import io.inflow.operators.embed.EmbeddingEncoding;
import io.inflow.operators.embed.TextEmbedOperatorFactory;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.testing.Harnesses;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * While every compute slot is busy, a batch whose max-wait has passed keeps filling instead of being handed over
 * half empty to queue for a slot; it goes as soon as a slot frees. (The benchmark found batches of 14-17 rows out
 * of 64 and a mean "wait" of 1.7-3.4 s with a 50 ms max-wait when timers flushed into full slots.)
 */
@Timeout(120)
class BatchFillUnderLoadTest {

    private static StreamRecord<TokenizedText> row(int i) {
        return new StreamRecord<>(PoisonRowTest.text(i, 1000 + i), 1);
    }

    @Test
    void anExpiredBatchWaitsForAFreeSlotAndKeepsFilling() throws Exception {
        CheckpointedRowsTest.Gate.entered = new Semaphore(0);
        CheckpointedRowsTest.Gate.release = new CountDownLatch(1);
        BatchingConfig cfg = new BatchingConfig(4, 4096, Duration.ofMillis(50), new int[] {8}, 1);
        try (var h = new OneInputStreamOperatorTestHarness<TokenizedText, EncodedRecord>(new TextEmbedOperatorFactory(
                cfg, new CheckpointedRowsTest.Gate(), EmbeddingEncoding.OMIT, new OutputEncoder(1 << 20)))) {
            h.setProcessingTime(0);
            h.open();
            for (int i = 0; i < 4; i++) {
                h.processElement(row(i)); // full: batch 1 takes the only slot and blocks in compute
            }
            assertThat(CheckpointedRowsTest.Gate.entered.tryAcquire(20, TimeUnit.SECONDS)).isTrue();
            long flushed = Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY);
            double queuedBefore = queueSeconds();
            h.processElement(row(4));
            h.setProcessingTime(100); // t4 has waited past max-wait, but no slot is free
            assertThat(Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY)).as("not handed over half empty")
                    .isEqualTo(flushed);
            h.processElement(row(5)); // joins t4's batch
            CheckpointedRowsTest.Gate.release.countDown();
            Harnesses.awaitTotal(h, 6, 0); // batch 1 returns; the expired batch [t4, t5] goes at once
            assertThat(Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY)).as("t4 and t5 in one batch")
                    .isEqualTo(flushed + 1);
            assertThat(Harnesses.outputs(h)).extracting(EnrichedEvent::id)
                    .containsExactly("t0", "t1", "t2", "t3", "t4", "t5");
            // ready at max-wait (50 ms, virtual), handed over at 100 ms: 50 ms queued for the slot, not "waiting"
            assertThat(queueSeconds() - queuedBefore).as("queue seconds recorded").isCloseTo(0.05,
                    org.assertj.core.api.Assertions.within(1e-9));
        }
    }

    /** Sum of {@code inflow_batch_queue_seconds} over the text embed operators in this JVM. */
    private static double queueSeconds() {
        return io.inflow.operators.metrics.InflowMetrics.BATCH_QUEUE.collect().getDataPoints().stream()
                .filter(d -> TextEmbedOperatorFactory.MODALITY.equals(
                        d.getLabels().get(io.inflow.operators.metrics.InflowMetrics.MODALITY)))
                .mapToDouble(io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot::getSum)
                .sum();
    }

    /**
     * A slot is free, but the shared model already has another operator's batch waiting: handing the expired batch
     * over would only queue it behind that one, so it keeps filling until the model's queue empties, and at most
     * {@code maxHold} (then it goes anyway).
     */
    @Test
    void anExpiredBatchKeepsFillingWhileTheSharedModelIsBackloggedUpToMaxHold() throws Exception {
        BacklogCompute.BACKLOG.set(true);
        BatchingConfig cfg = new BatchingConfig(8, 4096, Duration.ofMillis(50), new int[] {8}, 2);
        try (var h = new OneInputStreamOperatorTestHarness<TokenizedText, EncodedRecord>(new TextEmbedOperatorFactory(
                cfg, new BacklogCompute(), EmbeddingEncoding.OMIT, new OutputEncoder(1 << 20)))) {
            h.setProcessingTime(0);
            h.open();
            long flushed = Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY);
            h.processElement(row(0));
            h.setProcessingTime(100); // past max-wait, a slot free, but the model is backlogged
            assertThat(Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY)).as("held while backlogged")
                    .isEqualTo(flushed);
            h.processElement(row(1)); // joins t0's batch
            BacklogCompute.BACKLOG.set(false);
            h.setProcessingTime(110); // the next look at the model's queue (every max-wait / 10)
            Harnesses.awaitTotal(h, 2, 0);
            assertThat(Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY)).as("t0 and t1 in one batch")
                    .isEqualTo(flushed + 1);

            BacklogCompute.BACKLOG.set(true);
            h.setProcessingTime(200);
            h.processElement(row(2));
            h.setProcessingTime(200 + BatchSettings.DEFAULT_MAX_HOLD.toMillis() - 1);
            assertThat(Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY)).as("still held before max-hold")
                    .isEqualTo(flushed + 1);
            h.setProcessingTime(200 + BatchSettings.DEFAULT_MAX_HOLD.toMillis());
            Harnesses.awaitTotal(h, 3, 0);
            assertThat(Harnesses.batchesFlushed(TextEmbedOperatorFactory.MODALITY)).as("handed over at max-hold")
                    .isEqualTo(flushed + 2);
        } finally {
            BacklogCompute.BACKLOG.set(false);
        }
    }

    /** Computes nothing; says the shared model is backlogged while {@link #BACKLOG} is set. */
    static final class BacklogCompute implements io.inflow.operators.embed.TextBatchCompute {
        static final java.util.concurrent.atomic.AtomicBoolean BACKLOG = new java.util.concurrent.atomic.AtomicBoolean();

        @Override
        public void open() {
        }

        @Override
        public io.inflow.schemas.ModelRef model() {
            return new io.inflow.schemas.ModelRef("all-minilm-l6-v2", "backlog-probe");
        }

        @Override
        public boolean backlogged() {
            return BACKLOG.get();
        }

        @Override
        public io.inflow.operators.embed.BatchOutput compute(io.inflow.gpu.batch.TokenBatch batch) {
            return io.inflow.operators.embed.BatchOutput.withoutEmbeddings(batch.rowCount());
        }
    }
}
