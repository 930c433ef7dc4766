package io.inflow.gpu.backend.cuda;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Forward passes replayed as CUDA graphs ({@link io.inflow.gpu.backend.TransformerOps#recorded}): each pass runs with
 * its launches held back ({@link KernelLauncher#collect}), so every argument check still runs; then, per key (an
 * encoder and its batch shape):
 * <ol>
 *   <li>the first time, the launches are issued one by one and remembered;</li>
 *   <li>when a later pass makes exactly the same launches (kernels, grids, every pointer and value), they are captured
 *       once into a graph and the graph is launched: one driver call instead of ~45;</li>
 *   <li>from then on a pass with the same launches launches the graph; a pass with other launches (the workspace grew
 *       and moved, another input tensor) is issued one by one and replaces the entry, destroying the old graph.</li>
 * </ol>
 * A pass that copies or waits on the stream midway (a value check that reads lengths back) is issued as it goes and
 * not recorded. A graph therefore only ever runs with the pointers the pass itself just computed, so it never
 * touches freed memory. The capture holds the stream's lock (the backend's {@link CudaMemory} monitor, which every
 * launch and copy on the stream takes), so another thread sharing the backend cannot put work into the graph. At most {@value #MAX_ENTRIES} keys are kept (least recently used dropped). Off when
 * {@code inflow.cuda.sync-after-launch} is set (debugging wants each launch on its own).
 *
 * <pre>{@code
 * graphs.run(List.of(encoder, batch, seq), () -> layers(x));   // 1st: eager, 2nd: capture + launch, then: launch
 * }</pre>
 */
final class CudaGraphs implements AutoCloseable {
    static final int MAX_ENTRIES = 64;

    private final CudaContext context;
    private final CudaMemory memory;
    private final KernelLauncher launcher;
    private final Map<Object, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long eager;
    private long captures;
    private long replays;

    private static final class Entry {
        final List<KernelLauncher.Launch> launches;
        Object graph;

        Entry(List<KernelLauncher.Launch> launches) {
            this.launches = launches;
        }
    }

    CudaGraphs(CudaContext context, CudaMemory memory, KernelLauncher launcher) {
        this.context = context;
        this.memory = memory;
        this.launcher = launcher;
    }

    void run(Object key, Runnable forward) {
        if (launcher.syncAfterLaunch()) {
            forward.run();
            return;
        }
        List<KernelLauncher.Launch> launches = launcher.collect(forward);
        synchronized (this) {
            if (launches == null) {   // issued as it went
                drop(entries.remove(key));
                eager++;
                return;
            }
            if (launches.isEmpty()) {
                return;
            }
            Entry e = entries.get(key);
            if (e != null && same(e.launches, launches)) {
                synchronized (memory) {   // the stream's lock: no other thread's launch or copy joins the capture
                    if (e.graph == null) {
                        e.graph = context.api().captureGraph(memory.stream(), () -> launcher.issue(launches));
                        captures++;
                    } else {
                        replays++;
                    }
                    context.api().launchGraph(e.graph, memory.stream());
                }
                return;
            }
            launcher.issue(launches);
            eager++;
            drop(entries.put(key, new Entry(launches)));
            if (entries.size() > MAX_ENTRIES) {
                Iterator<Entry> oldest = entries.values().iterator();
                drop(oldest.next());
                oldest.remove();
            }
        }
    }

    /** {eager passes, graphs captured, graph replays} so far (tests, the benchmark). */
    synchronized long[] counts() {
        return new long[] {eager, captures, replays};
    }

    @Override
    public synchronized void close() {
        entries.values().forEach(this::drop);
        entries.clear();
    }

    private void drop(Entry e) {
        if (e != null && e.graph != null) {
            context.api().destroyGraph(e.graph);
            e.graph = null;
        }
    }

    private static boolean same(List<KernelLauncher.Launch> a, List<KernelLauncher.Launch> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).sameAs(b.get(i))) {
                return false;
            }
        }
        return true;
    }
}
