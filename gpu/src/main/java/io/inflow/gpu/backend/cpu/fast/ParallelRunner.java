package io.inflow.gpu.backend.cpu.fast;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads for the fast CPU kernels. {@link #parallelFor} hands out task indices
 * dynamically (an atomic counter) to the caller thread plus {@code threads - 1} workers, so uneven tasks
 * balance themselves. One runner per backend; the backend closes it.
 *
 * <p>{@code runner.parallelFor(rowBlocks, block -> computeRows(block));}
 */
public final class ParallelRunner implements AutoCloseable {
    private final int threads;
    private final ExecutorService pool;

    public ParallelRunner(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1 (requested " + threads + ")");
        }
        this.threads = threads;
        AtomicInteger id = new AtomicInteger();
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "inflow-cpu-kernel-" + id.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    /**
     * Below this many arithmetic operations a kernel runs on the caller thread: waking a worker costs tens
     * of microseconds, more than the work itself (measured on MiniLM at batch 1, sequence 16).
     */
    public static final long SERIAL_WORK = 2_000_000;

    /** Runs {@code body} for every task index in {@code [0, tasks)}; returns when all are done, rethrowing the first failure. */
    public void parallelFor(int tasks, IntConsumer body) {
        parallelFor(tasks, Long.MAX_VALUE, body);
    }

    /** As {@link #parallelFor(int, IntConsumer)}, serially when {@code work} (operations in total) is below {@link #SERIAL_WORK}. */
    public void parallelFor(int tasks, long work, IntConsumer body) {
        if (tasks <= 0) {
            return;
        }
        if (pool == null || tasks == 1 || work < SERIAL_WORK) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable drain = () -> {
            for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
                body.accept(i);
            }
        };
        int helpers = Math.min(threads - 1, tasks - 1);
        List<Future<?>> futures = new ArrayList<>(helpers);
        for (int h = 0; h < helpers; h++) {
            futures.add(pool.submit(drain));
        }
        RuntimeException failure = null;
        try {
            drain.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = failure != null ? failure : new IllegalStateException("interrupted in a CPU kernel", e);
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof RuntimeException re ? re
                            : new IllegalStateException("CPU kernel task failed", e.getCause());
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
