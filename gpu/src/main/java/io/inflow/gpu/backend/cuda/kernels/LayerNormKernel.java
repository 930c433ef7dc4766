package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code layernorm.cu}: {@code layernorm_f32}, LayerNorm of {@code x + residual} over rows. CPU twin:
 * {@code LayerNormReference}. One block of 256 threads per row. C signature
 * {@code (x, residual, gamma, beta, eps, out, rows, cols)}.
 *
 * <p>{@code LayerNormKernel.launch(launcher, x, residual, gamma, beta, 1e-12f, out, rows, cols);}
 */
public final class LayerNormKernel {
    public static final String MODULE = "layernorm";
    public static final String FUNCTION = "layernorm_f32";
    static final int THREADS = 256;

    private LayerNormKernel() {
    }

    public static void launch(KernelLauncher launcher, Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps,
                              Tensor out, int rows, int cols) {
        if (rows == 0) {
            return;
        }
        launcher.launch(MODULE, FUNCTION, rows, 1, 1, THREADS, 0,
                "rows=" + rows + " cols=" + cols + (residual == null ? "" : " +residual"),
                KernelArgs.of().ptr(x).ptr(residual).ptr(gamma).ptr(beta).f32(eps).ptr(out).i32(rows).i32(cols));
    }
}
