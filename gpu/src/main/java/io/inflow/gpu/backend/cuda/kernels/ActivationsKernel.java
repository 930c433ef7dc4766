package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code activations.cu}: {@code gelu_f32}, {@code quick_gelu_f32}, {@code glu_f32} (grid-stride,
 * 256 threads). CPU twin: {@code ActivationsReference}.
 *
 * <p>{@code ActivationsKernel.gelu(launcher, x, out, n);}
 */
public final class ActivationsKernel {
    public static final String MODULE = "activations";
    static final int THREADS = 256;

    private ActivationsKernel() {
    }

    /** C signature {@code (x, out, n)}. */
    public static void gelu(KernelLauncher launcher, Tensor x, Tensor out, long n) {
        if (n > 0) {
            launcher.launch(MODULE, "gelu_f32", KernelLauncher.blocksFor(n, THREADS), 1, 1, THREADS, 0, "n=" + n,
                    KernelArgs.of().ptr(x).ptr(out).i64(n));
        }
    }

    /** C signature {@code (x, out, n)}. */
    public static void quickGelu(KernelLauncher launcher, Tensor x, Tensor out, long n) {
        if (n > 0) {
            launcher.launch(MODULE, "quick_gelu_f32", KernelLauncher.blocksFor(n, THREADS), 1, 1, THREADS, 0, "n=" + n,
                    KernelArgs.of().ptr(x).ptr(out).i64(n));
        }
    }

    /** {@code x[rows, 2h] -> out[rows, h]}. C signature {@code (x, out, rows, h, gate)}, gate 0 = GELU, 1 = sigmoid. */
    public static void glu(KernelLauncher launcher, Tensor x, GluGate gate, Tensor out, long rows, int h) {
        long n = rows * h;
        if (n > 0) {
            launcher.launch(MODULE, "glu_f32", KernelLauncher.blocksFor(n, THREADS), 1, 1, THREADS, 0,
                    "rows=" + rows + " h=" + h + " gate=" + gate,
                    KernelArgs.of().ptr(x).ptr(out).i64(rows).i32(h).i32(gate == GluGate.GELU ? 0 : 1));
        }
    }
}
