package io.inflow.gpu.backend.cpu.fast;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed set of worker threads for the fast CPU kernels. {@link #parallelFor} hands out task indices
 * dynamically (an atomic counter) to the caller thread plus {@code threads - 1} workers, so uneven tasks
 * balance themselves. One runner per backend; the backend closes it.
 *
 * <p>Kernels of one forward pass follow each other within microseconds, so an idle worker spins for
 * {@link #SPIN_NANOS} waiting for the next one before it parks: handing a kernel to a spinning worker costs well
 * under a microsecond, waking a parked one (or a thread-pool task) tens of microseconds, which at batch 1 is more
 * than many kernels take. A parked worker costs nothing; the spin costs at most {@link #SPIN_NANOS} of one core
 * after each burst of kernels.
 *
 * <p>Calls are meant to come from one thread at a time (the encoder's); a call made while another is running
 * (from a second thread, or from inside a task) runs serially on its caller instead of waiting.
 *
 * <p>{@code runner.parallelFor(rowBlocks, block -> computeRows(block));}
 */
public final class ParallelRunner implements AutoCloseable {

    /** How long an idle worker spins for the next kernel before parking. */
    static final long SPIN_NANOS = 200_000;

    /**
     * Below this many arithmetic operations a kernel runs on the caller thread: about a microsecond of work, where
     * the hand-over and the cache traffic of splitting cost more than they save (MiniLM, 2 threads: 200k against
     * 2M, the threshold of the thread-pool version, took batch 1 x 128 tokens from 59 to 78-92 sentences/s).
     */
    public static final long SERIAL_WORK = 200_000;

    private final int threads;
    private final Thread[] workers;
    private final boolean[] parked;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Job job;
    private volatile boolean closed;

    /** One {@link #parallelFor} call: tasks are claimed through {@code next} and counted in {@code done}. */
    private static final class Job {
        final int tasks;
        final IntConsumer body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile RuntimeException failure;

        Job(int tasks, IntConsumer body) {
            this.tasks = tasks;
            this.body = body;
        }

        /** Runs tasks until none is left; every claimed task is counted done, failed or not. */
        void drain() {
            for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
                try {
                    body.accept(i);
                } catch (RuntimeException | Error e) {
                    if (failure == null) {
                        failure = e instanceof RuntimeException re ? re
                                : new IllegalStateException("CPU kernel task failed", e);
                    }
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    public ParallelRunner(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1 (requested " + threads + ")");
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.parked = new boolean[threads - 1];
        for (int w = 0; w < workers.length; w++) {
            int index = w;
            workers[w] = new Thread(() -> work(index), "inflow-cpu-kernel-" + (w + 1));
            workers[w].setDaemon(true);
            workers[w].start();
        }
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code body} for every task index in {@code [0, tasks)}; returns when all are done, rethrowing the first failure. */
    public void parallelFor(int tasks, IntConsumer body) {
        parallelFor(tasks, Long.MAX_VALUE, body);
    }

    /** As {@link #parallelFor(int, IntConsumer)}, serially when {@code work} (operations in total) is below {@link #SERIAL_WORK}. */
    public void parallelFor(int tasks, long work, IntConsumer body) {
        if (tasks <= 0) {
            return;
        }
        if (workers.length == 0 || tasks == 1 || work < SERIAL_WORK || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        try {
            Job j = new Job(tasks, body);
            job = j;                                   // publish, then wake whoever parked (see work())
            for (int w = 0; w < workers.length; w++) {
                if (isParked(w)) {
                    LockSupport.unpark(workers[w]);
                }
            }
            j.drain();
            // wait only for tasks a worker is still running; a worker that comes late finds nothing to claim
            int spins = 0;
            while (j.done.get() < tasks) {
                if (++spins < 10_000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            if (j.failure != null) {
                throw j.failure;
            }
        } finally {
            job = null;
            busy.set(false);
        }
    }

    private boolean isParked(int w) {
        synchronized (parked) {
            return parked[w];
        }
    }

    private void setParked(int w, boolean value) {
        synchronized (parked) {
            parked[w] = value;
        }
    }

    /** A worker: run every new job, spin a while for the next, then park until {@link #parallelFor} unparks it. */
    private void work(int w) {
        Job seen = null;
        while (!closed) {
            Job j = job;
            if (j != null && j != seen) {
                seen = j;
                j.drain();
                continue;
            }
            long deadline = System.nanoTime() + SPIN_NANOS;
            while (job == j && !closed && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            if (job == j && !closed) {
                // set the flag before the last look at job: a publisher that missed the flag is seen here
                setParked(w, true);
                if (job == j && !closed) {
                    LockSupport.park(this);
                }
                setParked(w, false);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }
}
