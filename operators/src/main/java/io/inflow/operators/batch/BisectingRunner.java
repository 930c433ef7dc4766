package io.inflow.operators.batch;

import io.inflow.gpu.backend.OutOfDeviceMemoryException;
import io.inflow.gpu.batch.RowBatch;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.runtime.ArrowMemory;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;

import org.apache.arrow.memory.OutOfMemoryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Computes one batch on the compute thread and turns every row into its outcome: the encoded output record, or a
 * dead letter. A poison row never takes its batch down: when compute throws on a batch, the batch is split in halves
 * (new Arrow batches of the same bucket, built from the rows' inputs) and each half is computed again, down to single
 * rows; a row that fails on its own is dead-lettered as {@code compute_failed}, every other row is emitted normally.
 * Afterwards each row is checked ({@code non_finite_output} for NaN or infinity), enriched, encoded and checked
 * against the sink's size ({@link OutputEncoder}: {@code serialize_failed}, {@code output_too_large}).
 *
 * <p>Failures that are not a record's fault are rethrown, so Flink restarts the task instead of dead-lettering good
 * records: the JVM's own errors (out of memory, linkage), an interrupt, exhausted Arrow or device memory, and
 * {@value #SYSTEMIC_ROW_FAILURES} rows in a row that each failed on their own with no row succeeding in between (a
 * broken model or device fails every row; poison records are rare).
 *
 * <p>Bisecting a batch of {@code n} rows with one poison row costs {@code 2 log2(n)} extra model calls on ever
 * smaller batches, about {@code 2n} more rows computed (a 64-row batch: 13 calls over 190 rows instead of one call).
 *
 * <pre>{@code
 * BisectingRunner<TokenizedText, TokenBatch, BatchOutput> runner = new BisectingRunner<>(hooks, encoder, "compute");
 * BatchResult result = runner.run(openBatch);   // on the compute thread
 * }</pre>
 */
final class BisectingRunner<IN, B extends RowBatch, R> {

    private static final Logger LOG = LoggerFactory.getLogger(BisectingRunner.class);
    /** Stage name of the dead letters it writes for compute problems. */
    static final String STAGE = "compute";
    /** Rows failing alone one after another, with no success in between, that mark a systemic failure. */
    static final int SYSTEMIC_ROW_FAILURES = 16;

    private final BatchHooks<IN, B, R> hooks;
    private final OutputEncoder encoder;
    private final String operatorName;
    private int consecutiveRowFailures;
    private int calls;

    BisectingRunner(BatchHooks<IN, B, R> hooks, OutputEncoder encoder, String operatorName) {
        this.hooks = hooks;
        this.encoder = encoder;
        this.operatorName = operatorName;
    }

    /** Computes the batch (bisecting on failure) and returns every row's outcome. */
    BatchResult run(OpenBatch<IN, B> batch) throws Exception {
        long start = System.nanoTime();
        calls = 0;
        Object[] out = new Object[batch.size()];
        computeRange(batch.arrow(), batch.inputs(), 0, batch.bucket(), out, batch.size());
        return new BatchResult(out, System.nanoTime() - start, calls);
    }

    /**
     * Computes {@code arrow}, whose rows are {@code inputs}, the rows {@code from ..} of the original batch of
     * {@code total} rows.
     */
    private void computeRange(B arrow, List<IN> inputs, int from, int bucket, Object[] out, int total)
            throws Exception {
        R result;
        try {
            calls++;
            result = hooks.compute(arrow);
            if (hooks.resultRows(result) != inputs.size()) {
                throw new IllegalStateException("compute returned " + hooks.resultRows(result)
                        + " rows for a batch of " + inputs.size());
            }
        } catch (Throwable t) {
            if (systemic(t)) {
                throw rethrow(t, arrow);
            }
            if (inputs.size() == 1) {
                failedAlone(inputs.get(0), from, out, total, t);
                return;
            }
            LOG.warn("{}: compute failed on a batch of {} ({}); bisecting to find the failing rows", operatorName,
                    hooks.describe(arrow), t.toString());
            int half = inputs.size() / 2;
            computeHalf(inputs.subList(0, half), from, bucket, out, total);
            computeHalf(inputs.subList(half, inputs.size()), from + half, bucket, out, total);
            return;
        }
        long now = System.currentTimeMillis();
        for (int row = 0; row < inputs.size(); row++) {
            consecutiveRowFailures = 0;
            out[from + row] = outcome(inputs.get(row), arrow, row, result, now);
        }
    }

    private void computeHalf(List<IN> inputs, int from, int bucket, Object[] out, int total) throws Exception {
        B half;
        try {
            half = hooks.newBatch(bucket);
        } catch (OutOfMemoryException e) {
            throw ArrowMemory.exhausted("a bisected half batch of " + inputs.size() + " rows", e);
        }
        try {
            for (IN in : inputs) {
                hooks.append(half, in);
            }
            computeRange(half, inputs, from, bucket, out, total);
        } finally {
            half.close();
        }
    }

    private void failedAlone(IN input, int row, Object[] out, int total, Throwable t) throws Exception {
        consecutiveRowFailures++;
        if (consecutiveRowFailures >= SYSTEMIC_ROW_FAILURES) {
            throw new IllegalStateException("compute failed on " + consecutiveRowFailures + " rows in a row, each"
                    + " on its own, with no row succeeding in between: the model or device is broken, not the"
                    + " records (the last error is the cause)", t);
        }
        LOG.warn("{}: row {} of {} fails on its own; dead-lettered as {}: {}", operatorName, row, total,
                ErrorKind.COMPUTE_FAILED.wireName(), t.toString());
        out[row] = DeadLetters.of(hooks.raw(input), ErrorKind.COMPUTE_FAILED, "compute failed on this record alone"
                + " (isolated by bisecting its batch of " + total + " rows): " + t, STAGE, System.currentTimeMillis());
    }

    /** The row's encoded record, or its dead letter. */
    private Object outcome(IN input, B arrow, int row, R result, long now) {
        if (!hooks.finite(result, row)) {
            return DeadLetters.of(hooks.raw(input), ErrorKind.NON_FINITE_OUTPUT, "the model's output for this"
                    + " record holds NaN or an infinity", STAGE, now);
        }
        EnrichedEvent event;
        try {
            event = hooks.enrich(input, arrow, row, result, now);
        } catch (RuntimeException e) {
            return DeadLetters.of(hooks.raw(input), ErrorKind.COMPUTE_FAILED, "building the enriched event failed: "
                    + e, STAGE, now);
        }
        OutputEncoder.Result encoded = encoder.encode(event, hooks.raw(input), now);
        return encoded.record() != null ? encoded.record() : encoded.deadLetter();
    }

    /** Failures that no record causes: the task fails and Flink restarts it. */
    static boolean systemic(Throwable t) {
        return t instanceof VirtualMachineError || t instanceof LinkageError || t instanceof InterruptedException
                || t instanceof OutOfMemoryException || t instanceof OutOfDeviceMemoryException
                || Thread.currentThread().isInterrupted();
    }

    private Exception rethrow(Throwable t, B arrow) {
        if (t instanceof OutOfMemoryException oom) {
            return ArrowMemory.exhausted("compute buffers for a batch of " + hooks.describe(arrow), oom);
        }
        if (t instanceof Error e) {
            throw e;
        }
        return t instanceof Exception e ? e : new RuntimeException(t);
    }

}
