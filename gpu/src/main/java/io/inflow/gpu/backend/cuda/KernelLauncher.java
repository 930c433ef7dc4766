package io.inflow.gpu.backend.cuda;

import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUstream;

/**
 * Launches kernels of a {@link CudaContext} on one stream: looks the function up by module and name, launches it
 * with checked errors that name the kernel and the shapes, and, when {@code syncAfterLaunch} is set (debug setting
 * {@code inflow.cuda.sync-after-launch=true}), synchronises after each launch so an asynchronous failure is
 * reported at the launch that caused it. Used by the launchers in {@code backend.cuda.kernels}; context thread only.
 *
 * <p>{@code launcher.launch("pooling", "mean_pool_f32", gx, b, 1, 128, 0, "b=8 s=128 d=384", args);}
 */
public final class KernelLauncher {
    /** Dynamic shared memory a kernel gets without raising its limit. */
    public static final int DEFAULT_SHARED_LIMIT = 48 * 1024;

    private final CudaContext context;
    private final CUstream stream;
    private final boolean syncAfterLaunch;
    private final Map<CUfunction, Integer> sharedLimits = new HashMap<>();

    KernelLauncher(CudaContext context, CUstream stream, boolean syncAfterLaunch) {
        this.context = context;
        this.stream = stream;
        this.syncAfterLaunch = syncAfterLaunch;
    }

    /**
     * Launches {@code module/function} on a {@code gridX x gridY x gridZ} grid of {@code block}-thread blocks with
     * {@code sharedBytes} of dynamic shared memory. {@code shapes} describes the call for error messages.
     */
    public void launch(String module, String function, int gridX, int gridY, int gridZ, int block, int sharedBytes,
                       String shapes, KernelArgs args) {
        context.checkThread();
        if (gridX < 1 || gridY < 1 || gridZ < 1 || gridY > 65535 || gridZ > 65535) {
            throw new IllegalArgumentException(function + ": grid " + gridX + " x " + gridY + " x " + gridZ
                    + " outside the CUDA limits (x >= 1, 1 <= y, z <= 65535) for " + shapes);
        }
        CUfunction f = context.function(module, function);
        if (sharedBytes > DEFAULT_SHARED_LIMIT && sharedLimits.getOrDefault(f, DEFAULT_SHARED_LIMIT) < sharedBytes) {
            CudaCheck.check(cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                    sharedBytes), "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES=" + sharedBytes + ")", function, shapes);
            sharedLimits.put(f, sharedBytes);
        }
        CudaCheck.check(cuLaunchKernel(f, gridX, gridY, gridZ, block, 1, 1, sharedBytes, stream,
                args.toKernelParams(), null), "cuLaunchKernel", function, shapes);
        if (syncAfterLaunch) {
            CudaCheck.check(cuStreamSynchronize(stream), "cuStreamSynchronize (sync-after-launch)", function, shapes);
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
