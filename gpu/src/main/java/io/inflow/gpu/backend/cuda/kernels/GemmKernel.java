package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.GemmPrecision;
import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code gemm.cu}: {@code gemm_bf16_f32} / {@code gemm_f16_f32}, tensor-core matrix multiply with a
 * fused bias / bias + GELU epilogue: {@code c[m, n] = epilogue(a[m, k] · op(b))}; {@code gemm_bf16_f32_w16} /
 * {@code gemm_f16_f32_w16}, the same with a Linear weight already rounded to 16 bits ({@link #launchResident});
 * {@code round_bf16_f32} / {@code round_f16_f32}, which round a weight once ({@link #round}). CPU twin:
 * {@code MatmulReference}. Argument checks are the caller's ({@code CudaBackend}); this maps shapes to the grid and
 * the C signature {@code (A, B, C, bias, M, N, K, trans_b, epilogue)}.
 *
 * <pre>{@code
 * GemmKernel.launch(launcher, GemmPrecision.BF16, x, w, true, bias, GemmKernel.Epilogue.BIAS, y, m, n, k);
 * GemmKernel.round(launcher, GemmPrecision.BF16, w, w16, (long) n * k);       // once, at load
 * GemmKernel.launchResident(launcher, GemmPrecision.BF16, x, w16, bias, GemmKernel.Epilogue.BIAS, y, m, n, k);
 * }</pre>
 */
public final class GemmKernel {
    public static final String MODULE = "gemm";
    static final int TILE_M = 64;
    static final int TILE_N = 64;
    static final int THREADS = 128;
    static final int ROUND_THREADS = 256;

    /**
     * What happens to each output element before it is stored (the kernel's {@code epilogue} argument).
     * {@link #BIAS_RESIDUAL} ({@code c = acc + bias + c}, the float32 {@code c} read and then written in place) is only
     * implemented by {@code gemm_tc.cu} ({@link GemmTcKernel}); this class's launchers refuse it.
     */
    public enum Epilogue {
        NONE(0), BIAS(1), BIAS_GELU(2), BIAS_RESIDUAL(3);

        final int code;

        Epilogue(int code) {
            this.code = code;
        }
    }

    private GemmKernel() {
    }

    /** {@code b} is {@code [n, k]} when {@code transposeB} (Linear weight), else {@code [k, n]}; bias {@code [n]} or null. */
    public static void launch(KernelLauncher launcher, GemmPrecision precision, Tensor a, Tensor b, boolean transposeB,
                              Tensor bias, Epilogue epilogue, Tensor c, int m, int n, int k) {
        launch(launcher, precision.kernel(), a, b, transposeB, bias, epilogue, c, m, n, k);
    }

    /**
     * {@code c = epilogue(a · w^T)} with {@code w16} the {@code [n, k]} Linear weight already rounded to
     * {@code precision} by {@link #round} (its 16-bit values; any tensor of {@code 2 n k} bytes): the same products,
     * bit for bit, as {@link #launch} on the float32 weight.
     */
    public static void launchResident(KernelLauncher launcher, GemmPrecision precision, Tensor a, Tensor w16,
                                      Tensor bias, Epilogue epilogue, Tensor c, int m, int n, int k) {
        launch(launcher, precision.residentKernel(), a, w16, true, bias, epilogue, c, m, n, k);
    }

    /** {@code y16[i] = precision(x[i])}, {@code n} elements, round to nearest even. C signature {@code (x, y, n)}. */
    public static void round(KernelLauncher launcher, GemmPrecision precision, Tensor x, Tensor y16, long n) {
        if (n > 0) {
            launcher.launch(MODULE, precision.roundKernel(), KernelLauncher.blocksFor(n, ROUND_THREADS), 1, 1,
                    ROUND_THREADS, 0, "n=" + n, KernelArgs.of().ptr(x).ptr(y16).i64(n));
        }
    }

    private static void launch(KernelLauncher launcher, String kernel, Tensor a, Tensor b, boolean transposeB,
                               Tensor bias, Epilogue epilogue, Tensor c, int m, int n, int k) {
        if (epilogue == Epilogue.BIAS_RESIDUAL) {
            throw new IllegalArgumentException("gemm: " + kernel + " has no BIAS_RESIDUAL epilogue"
                    + " (only NONE, BIAS, BIAS_GELU); use GemmTcKernel (bf16 activations) or add the residual"
                    + " separately");
        }
        if (epilogue != Epilogue.NONE && bias == null) {
            throw new IllegalArgumentException("gemm: epilogue " + epilogue + " needs a bias");
        }
        if (m == 0 || n == 0) {
            return;
        }
        int gridY = KernelLauncher.ceilDiv(m, TILE_M);
        if (gridY > 65535) {
            throw new IllegalArgumentException("gemm supports m up to " + 65535L * TILE_M + " rows (requested " + m + ")");
        }
        String shapes = "M=" + m + " N=" + n + " K=" + k + (transposeB ? " B^T" : "") + " " + epilogue;
        launcher.launch(MODULE, kernel, KernelLauncher.ceilDiv(n, TILE_N), gridY, 1, THREADS, 0, shapes,
                KernelArgs.of().ptr(a).ptr(b).ptr(c).ptr(bias).i32(m).i32(n).i32(k).i32(transposeB ? 1 : 0)
                        .i32(epilogue.code));
    }
}
