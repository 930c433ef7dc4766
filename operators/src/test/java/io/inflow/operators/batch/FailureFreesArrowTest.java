package io.inflow.operators.batch;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.operators.embed.BatchOutput;
import io.inflow.operators.embed.EmbeddingEncoding;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.operators.embed.TextEmbedOperatorFactory;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.runtime.ArrowMemory;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.ModelRef;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A task that fails or is cancelled with batches in every state (open, computing, computed and waiting in the
 * mailbox) frees all their Arrow memory: {@code close()} reports no leak and the process's Arrow root is empty.
 */
class FailureFreesArrowTest {

    private static final int ROWS = 4;

    @BeforeEach
    void reset() {
        GateCompute.entered = new Semaphore(0);
        GateCompute.release = new CountDownLatch(1);
        GateCompute.calls = 0;
    }

    private static OneInputStreamOperatorTestHarness<TokenizedText, EncodedRecord> open() throws Exception {
        // three in flight, so that a third batch can stay open while two are out
        BatchingConfig cfg = new BatchingConfig(ROWS, 4096, Duration.ofSeconds(60), new int[] {8}, 3);
        var h = new OneInputStreamOperatorTestHarness<>(new TextEmbedOperatorFactory(cfg, new GateCompute(),
                EmbeddingEncoding.FLOAT32, new OutputEncoder(1 << 20)));
        h.open();
        return h;
    }

    @Test
    void cancellingWithBatchesOpenComputingAndInTheMailboxLeaksNothing() throws Exception {
        assertThat(ArrowMemory.allocatedBytes()).as("no operator open before the test").isZero();
        var harness = open();
        int offset = 0;
        // batch 1: computes at once; its result waits in the mailbox (the harness does not run mails by itself)
        for (int i = 0; i < ROWS; i++) {
            harness.processElement(new StreamRecord<>(PoisonRowTest.text(offset++, 1000), 1));
        }
        assertThat(GateCompute.entered.tryAcquire(20, TimeUnit.SECONDS)).as("batch 1 computed").isTrue();
        // batch 2: blocks inside compute
        for (int i = 0; i < ROWS; i++) {
            harness.processElement(new StreamRecord<>(PoisonRowTest.text(offset++, 1000), 1));
        }
        assertThat(GateCompute.entered.tryAcquire(20, TimeUnit.SECONDS)).as("batch 2 entered compute").isTrue();
        // batch 3: open, half full
        harness.processElement(new StreamRecord<>(PoisonRowTest.text(offset++, 1000), 1));
        harness.processElement(new StreamRecord<>(PoisonRowTest.text(offset, 1000), 1));

        // negative control: the batches really hold Arrow memory, and nothing was emitted yet
        assertThat(ArrowMemory.allocatedBytes()).as("three batches allocated").isPositive();
        assertThat(harness.getTaskMailbox().size()).as("batch 1's result waits in the mailbox").isEqualTo(1);
        assertThat(harness.extractOutputValues()).isEmpty();

        // what Flink's task does on failure or cancellation: close() without finish() (harness.close() would finish
        // first, i.e. drain, which is the success path); interrupts compute, frees everything, throws on a leak
        harness.getOperator().close();

        assertThat(ArrowMemory.allocatedBytes()).as("the process's Arrow root is empty").isZero();
        assertThat(GateCompute.calls).isEqualTo(2);
    }

    /** The first batch computes at once; later ones block until released (or interrupted). */
    static final class GateCompute implements TextBatchCompute {
        static volatile Semaphore entered;
        static volatile CountDownLatch release;
        static volatile int calls;

        @Override
        public void open() {
        }

        @Override
        public ModelRef model() {
            return new ModelRef("gate", "1");
        }

        @Override
        public BatchOutput compute(TokenBatch batch) throws InterruptedException {
            int call = ++calls;
            entered.release();
            if (call > 1) {
                release.await();
            }
            return BatchOutput.withoutEmbeddings(batch.rowCount());
        }
    }
}
