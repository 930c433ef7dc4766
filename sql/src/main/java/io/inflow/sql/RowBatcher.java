package io.inflow.sql;

import io.inflow.operators.runtime.HelperThreads;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Gathers rows handed over one at a time (Flink calls a predict function once per row) into micro-batches: a batch
 * is computed when it holds {@code maxRecords} rows, or {@code maxWait} after its first row arrived, whichever comes
 * first. Batches run one after the other on one compute thread of this batcher, never on the caller's (Flink's task)
 * thread; rows keep arriving into the next batch meanwhile.
 *
 * <pre>{@code
 * try (RowBatcher<Row> batcher = new RowBatcher<>("inflow-ml-predict", 64, Duration.ofMillis(50),
 *         (rows, waitNanos) -> compute(rows))) {
 *     batcher.add(row);
 * }
 * }</pre>
 *
 * @param <T> a row with whatever it needs to be answered (e.g. its future)
 */
public final class RowBatcher<T> implements AutoCloseable {

    /** Computes one batch (on the batcher's compute thread); it must answer every row, also when it fails. */
    @FunctionalInterface
    public interface BatchHandler<T> {
        /**
         * @param rows the batch, in arrival order
         * @param waitNanos how long the batch's first row waited before the batch was handed over
         */
        void handle(List<T> rows, long waitNanos);
    }

    private final int maxRecords;
    private final long maxWaitNanos;
    private final BatchHandler<T> handler;
    private final ScheduledExecutorService thread;
    private List<T> pending = new ArrayList<>();
    private long firstArrival;
    private long generation;

    public RowBatcher(String threadName, int maxRecords, Duration maxWait, BatchHandler<T> handler) {
        if (maxRecords < 1) {
            throw new IllegalArgumentException("maxRecords must be at least 1 (got " + maxRecords + ")");
        }
        this.maxRecords = maxRecords;
        this.maxWaitNanos = maxWait.toNanos();
        this.handler = handler;
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, HelperThreads.factory(threadName));
        executor.setRemoveOnCancelPolicy(true);
        this.thread = executor;
    }

    /** Adds a row; hands the batch over when this row fills it. */
    public void add(T row) {
        List<T> full = null;
        long wait = 0;
        synchronized (this) {
            pending.add(row);
            if (pending.size() == 1) {
                firstArrival = System.nanoTime();
                long gen = ++generation;
                thread.schedule(() -> flushIfStill(gen), maxWaitNanos, TimeUnit.NANOSECONDS);
            }
            if (pending.size() >= maxRecords) {
                wait = System.nanoTime() - firstArrival;
                full = take();
            }
        }
        if (full != null) {
            List<T> rows = full;
            long w = wait;
            thread.execute(() -> handler.handle(rows, w));
        }
    }

    /** The timer of batch {@code gen}: computes it if it has not been handed over yet (compute thread). */
    private void flushIfStill(long gen) {
        List<T> rows;
        long wait;
        synchronized (this) {
            if (gen != generation || pending.isEmpty()) {
                return;
            }
            wait = System.nanoTime() - firstArrival;
            rows = take();
        }
        handler.handle(rows, wait);
    }

    private List<T> take() {
        List<T> rows = pending;
        pending = new ArrayList<>(maxRecords);
        generation++; // the batch's timer, if still scheduled, finds nothing to do
        return rows;
    }

    /** Rows waiting for their batch to fill. */
    public synchronized int pendingRows() {
        return pending.size();
    }

    /**
     * Runs {@code task} on the compute thread and waits for it: models that bind to a thread (a CUDA context) are
     * opened and closed where their batches run.
     */
    public <R> R onComputeThread(java.util.concurrent.Callable<R> task) throws Exception {
        try {
            return thread.submit(task).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception c ? c : e;
        }
    }

    /**
     * Stops the compute thread after the batch it computes. Rows still pending are not answered: Flink closes a
     * predict function only after its in-flight rows are answered (their batch's max-wait runs out before) or when
     * the task is cancelled, when answers no longer matter.
     */
    @Override
    public void close() throws InterruptedException {
        thread.shutdownNow();
        thread.awaitTermination(30, TimeUnit.SECONDS);
    }
}
