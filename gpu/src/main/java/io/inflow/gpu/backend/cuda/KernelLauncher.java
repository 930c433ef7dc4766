package io.inflow.gpu.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Launches kernels of a {@link CudaContext} on one backend's stream: looks the function up by module and name,
 * checks that every pointer argument is this backend's device memory (a tensor of another backend is refused before
 * the launch, not met as a fault), launches with errors that name the kernel and the shapes, and, when
 * {@code syncAfterLaunch} is set (debug setting {@code inflow.cuda.sync-after-launch=true}), synchronises after each
 * launch so an asynchronous failure is reported at the launch that caused it. Used by the launchers in
 * {@code backend.cuda.kernels}, from any thread.
 *
 * <p>While a thread runs a recorded pass ({@link #collect}), its launches are checked as usual but held back and
 * handed to the caller ({@link CudaGraphs}), which issues them or replays them as a CUDA graph; any other use of the
 * stream by that thread (a copy, a wait) first issues what is held, in order, and ends the recording.
 *
 * <p>{@code launcher.launch("pooling", "mean_pool_f32", gx, b, 1, 128, 0, "b=8 s=128 d=384", args);}
 */
public final class KernelLauncher {
    /** Dynamic shared memory a kernel gets without raising its limit. */
    public static final int DEFAULT_SHARED_LIMIT = 48 * 1024;

    private final CudaContext context;
    private final CudaMemory memory;
    private final boolean syncAfterLaunch;
    private final Map<Object, Integer> sharedLimits = new ConcurrentHashMap<>();
    /** The calling thread's held launches while it records; {@link #ISSUED} once the recording was given up. */
    private final ThreadLocal<List<Launch>> held = new ThreadLocal<>();
    private static final List<Launch> ISSUED = List.of();

    /** One checked launch: what a recording holds and a graph replays. */
    record Launch(Object function, String name, int gridX, int gridY, int gridZ, int block, int sharedBytes,
                  String shapes, KernelArgs args) {
        /** The same kernel with the same grid, shared memory and argument values. */
        boolean sameAs(Launch o) {
            return function == o.function && name.equals(o.name) && gridX == o.gridX && gridY == o.gridY
                    && gridZ == o.gridZ && block == o.block && sharedBytes == o.sharedBytes && args.sameValues(o.args);
        }
    }

    KernelLauncher(CudaContext context, CudaMemory memory, boolean syncAfterLaunch) {
        this.context = context;
        this.memory = memory;
        this.syncAfterLaunch = syncAfterLaunch;
        memory.beforeStreamUse(this::issueHeld);
    }

    /** Whether every launch synchronises (the debug setting): recordings are then not replayed. */
    boolean syncAfterLaunch() {
        return syncAfterLaunch;
    }

    /**
     * Runs {@code body} with the calling thread's launches held back and returns them in order, not yet issued; or
     * null when {@code body} used the stream otherwise (everything was then issued as it came, in order). When
     * {@code body} throws, what it held is issued before the exception propagates.
     */
    List<Launch> collect(Runnable body) {
        if (held.get() != null) {
            throw new IllegalStateException("a recorded pass is already running on this thread");
        }
        held.set(new ArrayList<>());
        try {
            body.run();
        } catch (RuntimeException | Error e) {
            issueHeld();
            held.remove();
            throw e;
        }
        List<Launch> h = held.get();
        held.remove();
        return h == ISSUED ? null : h;
    }

    /** Issues launches (from {@link #collect}) on the stream, in order. */
    void issue(List<Launch> launches) {
        DeviceApi api = context.api();
        synchronized (memory) {
            for (Launch l : launches) {
                api.launch(l.function, l.name, l.gridX, l.gridY, l.gridZ, l.block, l.sharedBytes, memory.stream(),
                        l.args, l.shapes);
                if (syncAfterLaunch) {
                    api.synchronize(memory.stream());
                }
            }
        }
    }

    private void issueHeld() {
        List<Launch> h = held.get();
        if (h != null && h != ISSUED) {
            held.set(ISSUED);
            issue(h);
        }
    }

    /**
     * Launches {@code module/function} on a {@code gridX x gridY x gridZ} grid of {@code block}-thread blocks with
     * {@code sharedBytes} of dynamic shared memory. {@code shapes} describes the call for error messages.
     */
    public void launch(String module, String function, int gridX, int gridY, int gridZ, int block, int sharedBytes,
                       String shapes, KernelArgs args) {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || gridY > 65535 || gridZ > 65535) {
            throw new IllegalArgumentException(function + ": grid " + gridX + " x " + gridY + " x " + gridZ
                    + " outside the CUDA limits (x >= 1, 1 <= y, z <= 65535) for " + shapes);
        }
        for (int i = 0; i < args.count(); i++) {
            if (args.kind(i) == KernelArgs.Kind.POINTER && args.bits(i) != 0 && !memory.owns(args.bits(i))) {
                throw new IllegalArgumentException(function + ": argument " + i + " (" + args.tensor(i)
                        + ") is not this backend's device memory; tensors cannot move between CUDA backends (copy it"
                        + " through the host)");
            }
        }
        DeviceApi api = context.api();
        Object f = context.function(module, function);
        if (sharedBytes > DEFAULT_SHARED_LIMIT && sharedLimits.getOrDefault(f, DEFAULT_SHARED_LIMIT) < sharedBytes) {
            api.allowSharedBytes(f, function, sharedBytes);
            sharedLimits.put(f, sharedBytes);
        }
        List<Launch> h = held.get();
        if (h != null && h != ISSUED) {
            h.add(new Launch(f, function, gridX, gridY, gridZ, block, sharedBytes, shapes, args));
            return;
        }
        synchronized (memory) {   // the stream's lock: never inside another thread's graph capture
            api.launch(f, function, gridX, gridY, gridZ, block, sharedBytes, memory.stream(), args, shapes);
            if (syncAfterLaunch) {
                api.synchronize(memory.stream());
            }
        }
    }

    /** Blocks of {@code threads} covering {@code n} items, capped for grid-stride kernels. */
    public static int blocksFor(long n, int threads) {
        return (int) Math.max(1, Math.min((n + threads - 1) / threads, 1L << 20));
    }

    public static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
