package io.inflow.operators.testing;

import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.schemas.EnrichedEvent;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reading a batching operator's output under Flink's test harness, where results arrive through the mailbox. */
public final class Harnesses {

    /** Long enough for a compute thread to hand back a batch on a loaded 2-core CI machine. */
    public static final Duration MAILBOX_WAIT = Duration.ofSeconds(20);

    private Harnesses() {
    }

    /** The enriched events emitted so far, in order. */
    public static List<EnrichedEvent> outputs(AbstractStreamOperatorTestHarness<EnrichedEvent> harness) {
        List<EnrichedEvent> out = new ArrayList<>();
        for (Object o : harness.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((EnrichedEvent) r.getValue());
            }
        }
        return out;
    }

    /**
     * Batches the {@code embed} operators of {@code modality} have handed to compute in this JVM (the
     * {@code inflow_batch_size_records} count, summed over jobs). The operator records it on the task thread at the
     * moment it flushes, so unlike outputs (which need the mailbox) it shows at once whether a flush happened: take a
     * value before, compare after.
     */
    public static long batchesFlushed(String modality) {
        return InflowMetrics.BATCH_SIZE.collect().getDataPoints().stream()
                .filter(d -> "embed".equals(d.getLabels().get(InflowMetrics.OPERATOR))
                        && modality.equals(d.getLabels().get(InflowMetrics.MODALITY)))
                .mapToLong(d -> d.getCount()).sum();
    }

    /** Runs mails (batch results) until {@code n} outputs exist; fails after {@link #MAILBOX_WAIT}. */
    public static List<EnrichedEvent> awaitOutputs(AbstractStreamOperatorTestHarness<EnrichedEvent> harness, int n)
            throws Exception {
        TaskMailbox mailbox = harness.getTaskMailbox();
        long deadline = System.nanoTime() + MAILBOX_WAIT.toNanos();
        while (outputs(harness).size() < n) {
            Optional<Mail> mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent()) {
                mail.get().run();
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + n + " outputs, got " + outputs(harness).size());
            } else {
                Thread.sleep(1);
            }
        }
        return outputs(harness);
    }
}
