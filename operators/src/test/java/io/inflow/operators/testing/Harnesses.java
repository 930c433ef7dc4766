package io.inflow.operators.testing;

import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.RecordCodec;
import io.inflow.schemas.RecordRejectedException;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Reading a batching operator's output under Flink's test harness, where results arrive through the mailbox: the
 * encoded records it emitted (decoded back into enriched events, as a consumer of the topic would) and its dead
 * letters.
 */
public final class Harnesses {

    /** Long enough for a compute thread to hand back a batch on a loaded 2-core CI machine. */
    public static final Duration MAILBOX_WAIT = Duration.ofSeconds(20);

    private Harnesses() {
    }

    /** The encoded records emitted so far, in order. */
    public static List<EncodedRecord> records(AbstractStreamOperatorTestHarness<EncodedRecord> harness) {
        List<EncodedRecord> out = new ArrayList<>();
        for (Object o : harness.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((EncodedRecord) r.getValue());
            }
        }
        return out;
    }

    /** The enriched events emitted so far, in order, decoded from their wire form. */
    public static List<EnrichedEvent> outputs(AbstractStreamOperatorTestHarness<EncodedRecord> harness) {
        List<EnrichedEvent> out = new ArrayList<>();
        for (EncodedRecord r : records(harness)) {
            try {
                out.add(RecordCodec.decodeEnriched(r.value()));
            } catch (RecordRejectedException e) {
                throw new AssertionError("the operator emitted a record that is not an enriched event", e);
            }
        }
        return out;
    }

    /** The dead letters emitted so far (side output {@link DeadLetters#TAG}), in order. */
    public static List<DeadLetterRecord> deadLetters(AbstractStreamOperatorTestHarness<EncodedRecord> harness) {
        ConcurrentLinkedQueue<StreamRecord<DeadLetterRecord>> side = harness.getSideOutput(DeadLetters.TAG);
        List<DeadLetterRecord> out = new ArrayList<>();
        if (side != null) {
            side.forEach(r -> out.add(r.getValue()));
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
    public static List<EnrichedEvent> awaitOutputs(AbstractStreamOperatorTestHarness<EncodedRecord> harness, int n)
            throws Exception {
        awaitTotal(harness, n, 0);
        return outputs(harness);
    }

    /**
     * Runs mails until at least {@code outputs} records and {@code deadLetters} dead letters were emitted; fails after
     * {@link #MAILBOX_WAIT}.
     */
    public static void awaitTotal(AbstractStreamOperatorTestHarness<EncodedRecord> harness, int outputs,
            int deadLetters) throws Exception {
        TaskMailbox mailbox = harness.getTaskMailbox();
        long deadline = System.nanoTime() + MAILBOX_WAIT.toNanos();
        while (records(harness).size() < outputs || deadLetters(harness).size() < deadLetters) {
            Optional<Mail> mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent()) {
                mail.get().run();
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + outputs + " outputs and " + deadLetters + " dead letters, got "
                        + records(harness).size() + " and " + deadLetters(harness).size());
            } else {
                Thread.sleep(1);
            }
        }
    }

}
