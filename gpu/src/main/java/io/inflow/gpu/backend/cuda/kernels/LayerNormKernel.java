package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code layernorm.cu}: {@code layernorm_f32}, LayerNorm of {@code x + residual} over rows. CPU twin:
 * {@code LayerNormReference}. One block of 256 threads per row. C signature
 * {@code (x, residual, gamma, beta, eps, out, rows, cols)}.
 *
 * {@code layernorm_f32_bf16} ({@link #launchBf16}): the BF16-activation encoder's LayerNorm, a warp per row, writing
 * float32 and/or bfloat16 outputs; C signature {@code (x, residual, gamma, beta, eps, out, out_bf16, rows, cols)}.
 *
 * <p>{@code LayerNormKernel.launch(launcher, x, residual, gamma, beta, 1e-12f, out, rows, cols);}
 */
public final class LayerNormKernel {
    public static final String MODULE = "layernorm";
    public static final String FUNCTION = "layernorm_f32";
    static final int THREADS = 256;
    static final int ROWS_PER_BLOCK = THREADS / 32;

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

    /**
     * LayerNorm of float32 {@code x + residual} into {@code out} (float32, or null) and {@code outBf16} (bfloat16, or
     * null); at least one output.
     */
    public static void launchBf16(KernelLauncher launcher, Tensor x, Tensor residual, Tensor gamma, Tensor beta,
                                  float eps, Tensor out, Tensor outBf16, int rows, int cols) {
        if (out == null && outBf16 == null) {
            throw new IllegalArgumentException("layernorm_f32_bf16: no output (out and out_bf16 are both null)");
        }
        if (rows == 0) {
            return;
        }
        launcher.launch(MODULE, "layernorm_f32_bf16", KernelLauncher.ceilDiv(rows, ROWS_PER_BLOCK), 1, 1, THREADS, 0,
                "rows=" + rows + " cols=" + cols + (residual == null ? "" : " +residual")
                        + (out == null ? "" : " ->f32") + (outBf16 == null ? "" : " ->bf16"),
                KernelArgs.of().ptr(x).ptr(residual).ptr(gamma).ptr(beta).f32(eps).ptr(out).ptr(outBf16).i32(rows)
                        .i32(cols));
    }
}
