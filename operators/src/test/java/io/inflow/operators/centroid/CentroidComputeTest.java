package io.inflow.operators.centroid;

import io.inflow.operators.batch.BatchOperatorFactory;
import io.inflow.operators.batch.BatchSettings;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RawRecord;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The recipe's example operator under Flink's keyed harness: per-tenant centroids in keyed state, batches flushed by
 * size and by virtual time, and a snapshot with a buffered row restored into a new instance (state and row).
 */
@Timeout(120)
class CentroidComputeTest {

    private static final int DIM = 3;
    private static final long MAX_WAIT_MS = 50;
    /** The drift arithmetic is in double over unit vectors: exact up to rounding of a few float products. */
    private static final double EPS = 1e-6;

    private static KeyedOneInputStreamOperatorTestHarness<String, TenantEmbedding, CentroidDrift> harness()
            throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new BatchOperatorFactory<>(new CentroidCompute(DIM, 4),
                        new BatchSettings(Duration.ofMillis(MAX_WAIT_MS), 2, "centroid", "text")),
                TenantEmbedding::tenant, Types.STRING);
        h.setProcessingTime(0);
        return h;
    }

    private static StreamRecord<TenantEmbedding> e(String tenant, String id, float... v) {
        return new StreamRecord<>(new TenantEmbedding(tenant, id, v,
                new RawRecord("events.text", 0, id.hashCode() & 0xffff, 1, null, id.getBytes())), 7);
    }

    /** Runs mails until {@code n} outputs exist (results come back through the mailbox). */
    private static List<CentroidDrift> await(
            KeyedOneInputStreamOperatorTestHarness<String, TenantEmbedding, CentroidDrift> h, int n)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (h.extractOutputValues().size() < n) {
            Optional<org.apache.flink.streaming.runtime.tasks.mailbox.Mail> mail = h.getTaskMailbox()
                    .tryTake(org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent()) {
                mail.get().run();
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + n + " outputs, got " + h.extractOutputValues());
            } else {
                Thread.sleep(1);
            }
        }
        return h.extractOutputValues();
    }

    @Test
    void eachTenantHasItsOwnCentroidAndAFullBatchFlushesAtOnce() throws Exception {
        try (var h = harness()) {
            h.open();
            h.processElement(e("acme", "a1", 1, 0, 0));
            h.processElement(e("zeta", "z1", 0, 0, 5));
            h.processElement(e("acme", "a2", 2, 0, 0));  // same direction as a1: drift 0
            h.processElement(e("acme", "a3", 0, 3, 0));  // orthogonal to the centroid (1,0,0): drift 1
            List<CentroidDrift> out = await(h, 4);
            assertThat(out).extracting(CentroidDrift::id).containsExactly("a1", "z1", "a2", "a3");
            assertThat(out.get(0).drift()).isZero();
            assertThat(out.get(1).seen()).as("zeta's own count").isEqualTo(1);
            assertThat(out.get(2).drift()).isCloseTo(0, within(EPS));
            assertThat(out.get(3).drift()).isCloseTo(1, within(EPS));
            assertThat(out.get(3).seen()).isEqualTo(3);
        }
    }

    @Test
    void aPartialBatchWaitsForMaxWaitInVirtualTime() throws Exception {
        try (var h = harness()) {
            h.open();
            h.processElement(e("acme", "a1", 1, 1, 0));
            h.setProcessingTime(MAX_WAIT_MS - 1);
            assertThat(h.getTaskMailbox().size()).as("not computed before max-wait").isZero();
            h.setProcessingTime(MAX_WAIT_MS);
            assertThat(await(h, 1)).extracting(CentroidDrift::id).containsExactly("a1");
        }
    }

    @Test
    void centroidsAndBufferedRowsSurviveASnapshotAndRestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var first = harness()) {
            first.open();
            first.processElement(e("acme", "a1", 1, 0, 0));
            first.processElement(e("acme", "a2", 1, 0, 0));
            first.processElement(e("zeta", "z1", 0, 1, 0));
            first.processElement(e("zeta", "z2", 0, 1, 0)); // full: computed and emitted
            await(first, 4);
            first.processElement(e("acme", "a3", 0, 1, 0)); // buffered in the open batch at the snapshot
            snapshot = first.snapshot(1, 1);
            assertThat(first.extractOutputValues()).hasSize(4);
        }
        try (var second = harness()) {
            second.initializeState(snapshot);
            second.open();
            second.processElement(e("zeta", "z3", 0, 0, 1));
            second.endInput();
            List<CentroidDrift> out = second.extractOutputValues();
            assertThat(out).extracting(CentroidDrift::id).containsExactly("a3", "z3");
            assertThat(out.get(0).seen()).as("acme's count restored: a1, a2, then a3").isEqualTo(3);
            assertThat(out.get(0).drift()).as("a3 is orthogonal to acme's restored centroid").isCloseTo(1,
                    within(EPS));
            assertThat(out.get(1).seen()).isEqualTo(3);
        }
    }

    @Test
    void anEmbeddingOfTheWrongSizeIsDeadLettered() throws Exception {
        try (var h = harness()) {
            h.open();
            h.processElement(e("acme", "bad", 1, 2));
            assertThat(h.getSideOutput(DeadLetters.TAG)).singleElement()
                    .satisfies(r -> assertThat(r.getValue().kind()).isEqualTo(ErrorKind.INVALID_FIELD));
            h.processElement(e("acme", "zero", 0, 0, 0));
            h.endInput();
            assertThat(h.getSideOutput(DeadLetters.TAG)).hasSize(2)
                    .last().satisfies(r -> assertThat(r.getValue().kind()).isEqualTo(ErrorKind.NON_FINITE_OUTPUT));
            assertThat(h.extractOutputValues()).isEmpty();
        }
    }
}
