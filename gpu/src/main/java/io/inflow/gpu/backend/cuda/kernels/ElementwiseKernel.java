package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code elementwise.cu}: {@code add_f32}, {@code fill_f32}, {@code scale_add_f32}, {@code add_bias_f32}
 * (grid-stride, 256 threads) and {@code l2_normalize_f32} (one block of 256 threads per row). CPU twin:
 * {@code ElementwiseReference}.
 *
 * <p>{@code ElementwiseKernel.add(launcher, a, b, out, n);}
 */
public final class ElementwiseKernel {
    public static final String MODULE = "elementwise";
    static final int THREADS = 256;

    private ElementwiseKernel() {
    }

    /** {@code out = a + b}, n elements. C signature {@code (a, b, out, n)}. */
    public static void add(KernelLauncher launcher, Tensor a, Tensor b, Tensor out, long n) {
        if (n > 0) {
            launcher.launch(MODULE, "add_f32", KernelLauncher.blocksFor(n, THREADS), 1, 1, THREADS, 0, "n=" + n,
                    KernelArgs.of().ptr(a).ptr(b).ptr(out).i64(n));
        }
    }

    /** {@code x = value}. C signature {@code (x, value, n)}. */
    public static void fill(KernelLauncher launcher, Tensor x, float value, long n) {
        if (n > 0) {
            launcher.launch(MODULE, "fill_f32", KernelLauncher.blocksFor(n, THREADS), 1, 1, THREADS, 0, "n=" + n,
                    KernelArgs.of().ptr(x).f32(value).i64(n));
        }
    }

    /** {@code acc += alpha * x}. C signature {@code (acc, x, alpha, n)}. */
    public static void scaleAdd(KernelLauncher launcher, Tensor acc, Tensor x, float alpha, long n) {
        if (n > 0) {
            launcher.launch(MODULE, "scale_add_f32", KernelLauncher.blocksFor(n, THREADS), 1, 1, THREADS, 0, "n=" + n,
                    KernelArgs.of().ptr(acc).ptr(x).f32(alpha).i64(n));
        }
    }

    /** {@code x[r, c] += bias[c]}. C signature {@code (x, bias, rows, cols)}. */
    public static void addBias(KernelLauncher launcher, Tensor x, Tensor bias, long rows, int cols) {
        long n = rows * cols;
        if (n > 0) {
            launcher.launch(MODULE, "add_bias_f32", KernelLauncher.blocksFor(n, THREADS), 1, 1, THREADS, 0,
                    "rows=" + rows + " cols=" + cols, KernelArgs.of().ptr(x).ptr(bias).i64(rows).i32(cols));
        }
    }

    /** Rows of {@code x[rows, cols]} scaled to unit L2 norm. C signature {@code (x, out, rows, cols)}. */
    public static void l2Normalize(KernelLauncher launcher, Tensor x, Tensor out, int rows, int cols) {
        if (rows > 0) {
            launcher.launch(MODULE, "l2_normalize_f32", rows, 1, 1, THREADS, 0, "rows=" + rows + " cols=" + cols,
                    KernelArgs.of().ptr(x).ptr(out).i32(rows).i32(cols));
        }
    }
}
