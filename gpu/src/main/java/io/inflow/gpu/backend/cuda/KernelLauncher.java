package io.inflow.gpu.backend.cuda;

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
 * <p>{@code launcher.launch("pooling", "mean_pool_f32", gx, b, 1, 128, 0, "b=8 s=128 d=384", args);}
 */
public final class KernelLauncher {
    /** Dynamic shared memory a kernel gets without raising its limit. */
    public static final int DEFAULT_SHARED_LIMIT = 48 * 1024;

    private final CudaContext context;
    private final CudaMemory memory;
    private final boolean syncAfterLaunch;
    private final Map<Object, Integer> sharedLimits = new ConcurrentHashMap<>();

    KernelLauncher(CudaContext context, CudaMemory memory, boolean syncAfterLaunch) {
        this.context = context;
        this.memory = memory;
        this.syncAfterLaunch = syncAfterLaunch;
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
        api.launch(f, function, gridX, gridY, gridZ, block, sharedBytes, memory.stream(), args, shapes);
        if (syncAfterLaunch) {
            api.synchronize(memory.stream());
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
