package io.inflow.operators.batch;

import org.apache.flink.util.function.ThrowingConsumer;

/**
 * Output a compute emits later, from any thread: for results of background work it started itself (a clustering
 * rebuild), which are not one per row. The action runs on the task thread, through the mailbox, under {@code key}
 * (in a keyed operator: its keyed state is that key's), with an emitter whose records carry no timestamp. Actions
 * queued when the task stops are dropped: deferred output is derived data that the compute can produce again after a
 * restore.
 *
 * <pre>{@code
 * public void deferredOutput(DeferredOutput<Out> later) { this.later = later; }
 * ...
 * rebuildPool.submit(() -> { Tree t = build(window); later.emit(key, out -> out.sideOutput(TREES, t.snapshot())); });
 * }</pre>
 *
 * @param <OUT> the compute's output type
 */
@FunctionalInterface
public interface DeferredOutput<OUT> {

    /** Runs {@code action} on the task thread under {@code key} (null: no key). */
    void emit(Object key, ThrowingConsumer<Emitter<OUT>, Exception> action);
}
