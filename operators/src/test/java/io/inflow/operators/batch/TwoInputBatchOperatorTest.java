package io.inflow.operators.batch;

import io.inflow.gpu.batch.VectorBatch;
import io.inflow.operators.centroid.TenantEmbedding;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The two-input variant: reference vectors arrive on the second input and are applied between batches (copy on
 * write), queries on the first are batched and matched against the version of the references their batch was
 * handed over with; watermarks are combined over both inputs and held behind buffered queries.
 */
@Timeout(120)
class TwoInputBatchOperatorTest {

    /** A reference vector upsert on the second input. */
    record Reference(String id, float[] vector) {
    }

    /** The best reference of each query by dot product, against the references pinned when the batch was flushed. */
    static final class NearestReference
            implements TwoInputBatchCompute<TenantEmbedding, VectorBatch, String[], String, Reference> {
        /** Holds compute until the test has applied a later update: without pinning, the batch would see it. */
        static volatile java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(0);
        private transient volatile Map<String, float[]> references;

        @Override
        public VectorBatch newBatch(BufferAllocator allocator, int bucket) {
            return new VectorBatch(allocator, 2, 2);
        }

        @Override
        public void append(VectorBatch batch, TenantEmbedding input) {
            batch.append(input.embedding());
        }

        @Override
        public RawRecord raw(TenantEmbedding input) {
            return input.raw();
        }

        @Override
        public void open() {
            if (references == null) {
                references = Map.of();
            }
        }

        @Override
        public ModelRef model() {
            return new ModelRef("nearest-reference", "1");
        }

        @Override
        public void processSide(Reference value, Emitter<String> out) {
            Map<String, float[]> next = new HashMap<>(references == null ? Map.of() : references);
            next.put(value.id(), value.vector());
            references = Map.copyOf(next); // a new version: a batch computing keeps the one it read
            out.collect("updated " + value.id());
        }

        /** The references current when the batch is handed to compute (task thread). */
        @Override
        public Object pin() {
            return references;
        }

        @Override
        public String[] compute(VectorBatch batch, List<TenantEmbedding> inputs) throws InterruptedException {
            return compute(batch, inputs, references);
        }

        @Override
        @SuppressWarnings("unchecked")
        public String[] compute(VectorBatch batch, List<TenantEmbedding> inputs, Object version)
                throws InterruptedException {
            gate.await(10, java.util.concurrent.TimeUnit.SECONDS);
            Map<String, float[]> pinned = (Map<String, float[]>) version;
            String[] out = new String[batch.rowCount()];
            for (int r = 0; r < out.length; r++) {
                double best = Double.NEGATIVE_INFINITY;
                for (Map.Entry<String, float[]> e : new java.util.TreeMap<>(pinned).entrySet()) {
                    double dot = batch.get(r, 0) * e.getValue()[0] + batch.get(r, 1) * e.getValue()[1];
                    if (dot > best) {
                        best = dot;
                        out[r] = e.getKey();
                    }
                }
            }
            return out;
        }

        @Override
        public int resultRows(String[] result) {
            return result.length;
        }

        @Override
        public void emit(TenantEmbedding input, int row, String[] result, Emitter<String> out) {
            out.collect(input.id() + "->" + result[row]);
        }
    }

    private static StreamRecord<TenantEmbedding> query(String id, float x, float y) {
        return new StreamRecord<>(new TenantEmbedding("t", id, new float[] {x, y},
                new RawRecord("events.text", 0, 1, 1, null, id.getBytes())), 10);
    }

    /**
     * Flink's {@code TwoInputStreamOperatorTestHarness} takes only operator instances; this operator needs its
     * factory (for the mailbox), so the generic harness runs it and the test drives its two inputs directly.
     */
    private static AbstractStreamOperatorTestHarness<String> harness() throws Exception {
        var factory = new TwoInputBatchOperatorFactory<>(new NearestReference(),
                new BatchSettings(Duration.ofSeconds(60), 2, "nearest", "text"));
        return new AbstractStreamOperatorTestHarness<>(factory, 1, 1, 0);
    }

    @SuppressWarnings("unchecked")
    private static TwoInputStreamOperator<TenantEmbedding, Reference, String> op(
            AbstractStreamOperatorTestHarness<String> h) {
        return (TwoInputStreamOperator<TenantEmbedding, Reference, String>) h.getOperator();
    }

    private static List<String> values(AbstractStreamOperatorTestHarness<String> h) {
        List<String> out = new java.util.ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((String) r.getValue());
            }
        }
        return out;
    }

    private static void runMails(AbstractStreamOperatorTestHarness<String> h, int outputs) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (values(h).size() < outputs) {
            Optional<Mail> mail = h.getTaskMailbox().tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent()) {
                mail.get().run();
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + outputs + " outputs: " + values(h));
            } else {
                Thread.sleep(1);
            }
        }
    }

    @Test
    void updatesOnTheSecondInputApplyBetweenBatches() throws Exception {
        try (var h = harness()) {
            h.open();
            var op = op(h);
            NearestReference.gate = new java.util.concurrent.CountDownLatch(1);
            op.processElement2(new StreamRecord<>(new Reference("east", new float[] {1, 0})));
            op.processElement1(query("q1", 0, 1));
            op.processElement1(query("q2", 1, 0)); // full: the batch is pinned to {east}
            op.processElement2(new StreamRecord<>(new Reference("north", new float[] {0, 1})));
            NearestReference.gate.countDown(); // the batch computes only now, after north arrived
            runMails(h, 4);
            op.processElement1(query("q3", 0, 1));
            ((BoundedMultiInput) op).endInput(1);
            List<String> out = values(h);
            assertThat(out).containsExactly("updated east", "updated north", "q1->east", "q2->east", "q3->north");
        }
    }

    @Test
    void theCombinedWatermarkWaitsBehindBufferedQueries() throws Exception {
        try (var h = harness()) {
            h.open();
            var op = op(h);
            op.processElement2(new StreamRecord<>(new Reference("east", new float[] {1, 0})));
            op.processElement1(query("q1", 1, 1));
            op.processWatermark1(new Watermark(100));
            op.processWatermark2(new Watermark(200));
            assertThat(h.getOutput()).as("min(100, 200) is held behind q1").noneMatch(o -> o instanceof Watermark);
            ((BoundedMultiInput) op).endInput(1);
            List<Object> out = List.copyOf(h.getOutput());
            assertThat(out.get(out.size() - 1)).isEqualTo(new Watermark(100));
        }
    }
}
