package io.inflow.operators.embed;

import java.util.concurrent.locks.ReentrantLock;

/**
 * A model shared by every slot of a task-manager process, with one fair queue in front of it: batches from all
 * slots run one at a time, in arrival order, on the model's own kernel threads (or GPU context). The queue is
 * visible to the batching core: while a batch is already waiting for the model, a batch handed over now would only
 * queue too, so the core keeps filling it instead ({@link #backlogged()}, up to {@code BatchSettings.maxHold}, 1 s by default).
 *
 * <pre>{@code
 * ProcessResources.Lease<SharedModel<TextEncoder>> lease =
 *         SharedEncoders.acquire(spec, () -> TextEncoder.create(spec.toConfig()));
 * float[] out = lease.get().call(enc -> enc.encode(ids, lengths));
 * }</pre>
 *
 * @param <M> the model (an encoder); closed with this
 */
public final class SharedModel<M extends AutoCloseable> implements AutoCloseable {

    /** One call on the model. */
    @FunctionalInterface
    public interface Call<M, T> {
        T apply(M model) throws Exception;
    }

    private static final ThreadLocal<long[]> LAST_WAIT = ThreadLocal.withInitial(() -> new long[1]);

    private final M model;
    private final ReentrantLock queue = new ReentrantLock(true);

    public SharedModel(M model) {
        this.model = model;
    }

    /** The model, for calls that do not compute (dimensions, names); computing calls go through {@link #call}. */
    public M model() {
        return model;
    }

    /** Runs {@code call} once every batch queued before it has run. */
    public <T> T call(Call<M, T> call) throws Exception {
        long t0 = System.nanoTime();
        queue.lock();
        try {
            LAST_WAIT.get()[0] = System.nanoTime() - t0;
            return call.apply(model);
        } finally {
            queue.unlock();
        }
    }

    /** Whether a batch is waiting for the model now (besides the one it runs). */
    public boolean backlogged() {
        return queue.hasQueuedThreads();
    }

    /** How long the calling thread's last {@link #call} waited for the batches queued before it, in nanoseconds. */
    public static long lastWaitNanos() {
        return LAST_WAIT.get()[0];
    }

    @Override
    public void close() throws Exception {
        model.close();
    }

    @Override
    public String toString() {
        return "shared " + model;
    }
}
