package io.inflow.operators.batch;

import io.inflow.gpu.backend.OutOfDeviceMemoryException;
import io.inflow.gpu.batch.RowBatch;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.runtime.ArrowMemory;
import io.inflow.schemas.ErrorKind;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Computes one batch on the compute thread, so that a poison row never takes its batch down: when
 * {@link BatchCompute#compute} throws on a batch, the batch is split in halves (new Arrow batches of the same bucket,
 * built from the rows' inputs) and each half is computed again, down to single rows; a row that fails on its own
 * becomes a {@code compute_failed} dead letter (stage {@value #STAGE}), every other row keeps its result.
 *
 * <p>Failures that are not a record's fault are rethrown, so Flink restarts the task instead of dead-lettering good
 * records: the JVM's own errors (out of memory, linkage, {@code InternalError}), an interrupt, exhausted Arrow or
 * device memory, and {@value #SYSTEMIC_ROW_FAILURES} rows in a row that each failed on their own with no row
 * succeeding in between (a broken model or device fails every row; poison records are rare).
 *
 * <p>Bisecting a batch of {@code n} rows with one poison row costs {@code 2 log2(n)} extra model calls on ever
 * smaller batches, about {@code 2n} more rows computed (a 64-row batch: 13 calls over 190 rows instead of one call).
 *
 * <pre>{@code
 * BisectingRunner<TokenizedText, TokenBatch, Outcomes> runner = new BisectingRunner<>(compute, allocator, "embed-0");
 * BatchResult<TokenizedText, Outcomes> result = runner.run(openBatch);   // on the compute thread
 * }</pre>
 */
final class BisectingRunner<IN, B extends RowBatch, R> {

    private static final Logger LOG = LoggerFactory.getLogger(BisectingRunner.class);
    /** Stage name of the dead letters it writes. */
    static final String STAGE = "compute";
    /** Rows failing alone one after another, with no success in between, that mark a systemic failure. */
    static final int SYSTEMIC_ROW_FAILURES = 16;

    private final BatchCompute<IN, B, R, ?> compute;
    private final BufferAllocator allocator;
    private final String operatorName;
    private int consecutiveRowFailures;
    private int calls;

    BisectingRunner(BatchCompute<IN, B, R, ?> compute, BufferAllocator allocator, String operatorName) {
        this.compute = compute;
        this.allocator = allocator;
        this.operatorName = operatorName;
    }

    /** Computes the batch (bisecting on failure) and returns every row's outcome. */
    BatchResult<IN, R> run(OpenBatch<IN, B> batch) throws Exception {
        long start = System.nanoTime();
        calls = 0;
        BatchResult<IN, R> out = new BatchResult<>(batch.size());
        computeRange(batch.arrow(), batch.inputs(), 0, batch.bucket(), batch.pinned(), out);
        out.finish(System.nanoTime() - start, calls);
        return out;
    }

    /** Computes {@code arrow}, whose rows are {@code inputs}, the rows {@code from ..} of the original batch. */
    private void computeRange(B arrow, List<IN> inputs, int from, int bucket, Object pinned, BatchResult<IN, R> out)
            throws Exception {
        R result;
        try {
            calls++;
            result = compute.compute(arrow, inputs, pinned);
            if (compute.resultRows(result) != inputs.size()) {
                throw new IllegalStateException("compute returned " + compute.resultRows(result)
                        + " rows for a batch of " + inputs.size());
            }
        } catch (Throwable t) {
            if (systemic(t)) {
                throw rethrow(t, arrow);
            }
            if (inputs.size() == 1) {
                failedAlone(inputs.get(0), from, out, t);
                return;
            }
            LOG.warn("{}: compute failed on a batch of {} ({}); bisecting to find the failing rows", operatorName,
                    compute.describe(arrow), t.toString());
            int half = inputs.size() / 2;
            computeHalf(inputs.subList(0, half), from, bucket, pinned, out);
            computeHalf(inputs.subList(half, inputs.size()), from + half, bucket, pinned, out);
            return;
        }
        consecutiveRowFailures = 0;
        out.part(from, inputs, result);
    }

    private void computeHalf(List<IN> inputs, int from, int bucket, Object pinned, BatchResult<IN, R> out)
            throws Exception {
        B half;
        try {
            half = compute.newBatch(allocator, bucket);
        } catch (OutOfMemoryException e) {
            throw ArrowMemory.exhausted("a bisected half batch of " + inputs.size() + " rows", e);
        }
        try {
            for (IN in : inputs) {
                compute.append(half, in);
            }
            computeRange(half, inputs, from, bucket, pinned, out);
        } finally {
            half.close();
        }
    }

    private void failedAlone(IN input, int row, BatchResult<IN, R> out, Throwable t) {
        consecutiveRowFailures++;
        if (consecutiveRowFailures >= SYSTEMIC_ROW_FAILURES) {
            throw new IllegalStateException("compute failed on " + consecutiveRowFailures + " rows in a row, each"
                    + " on its own, with no row succeeding in between: the model or device is broken, not the"
                    + " records (the last error is the cause)", t);
        }
        LOG.warn("{}: row {} of {} fails on its own; dead-lettered as {}: {}", operatorName, row, out.rows(),
                ErrorKind.COMPUTE_FAILED.wireName(), t.toString());
        out.failure(row, DeadLetters.of(compute.raw(input), ErrorKind.COMPUTE_FAILED, "compute failed on this record"
                + " alone (isolated by bisecting its batch of " + out.rows() + " rows): " + t, STAGE,
                System.currentTimeMillis()));
    }

    /** Failures that no record causes: the task fails and Flink restarts it. */
    static boolean systemic(Throwable t) {
        return t instanceof VirtualMachineError || t instanceof LinkageError || t instanceof InterruptedException
                || t instanceof OutOfMemoryException || t instanceof OutOfDeviceMemoryException
                || Thread.currentThread().isInterrupted();
    }

    private Exception rethrow(Throwable t, B arrow) {
        if (t instanceof OutOfMemoryException oom) {
            return ArrowMemory.exhausted("compute buffers for a batch of " + compute.describe(arrow), oom);
        }
        if (t instanceof Error e) {
            throw e;
        }
        return t instanceof Exception e ? e : new RuntimeException(t);
    }
}
