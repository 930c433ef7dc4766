package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code gemm_tc.cu}: the BF16 tensor-core GEMM for BF16 activations, {@code c[m, n] = epilogue(a[m, k] ·
 * w^T)} with {@code a} bf16 {@code [m, k]}, {@code w16} the {@code [n, k]} Linear weight in bf16 (as
 * {@code ResidentWeights} keeps it: a {@code BFLOAT16} tensor, or its {@code UINT8} byte tensor of {@code 2 n k}
 * bytes), float32 accumulation, a float32 {@code [n]} bias, and {@code c} float32 ({@code gemm_tc_bf16_f32*}) or bf16
 * rounded to nearest even ({@code gemm_tc_bf16_bf16*}), picked by {@code c}'s dtype. Epilogues: {@code NONE},
 * {@code BIAS}, {@code BIAS_GELU} and {@code BIAS_RESIDUAL} ({@code c = acc + bias + c}, float32 {@code c} only).
 * CPU twin: {@code MatmulReference} on the bf16-rounded inputs.
 *
 * <p>Tiles of 128 x 128 (256 threads) or, when the 128-row grid would have fewer than {@link #FILL_BLOCKS} blocks
 * (a small batch that would leave most of the GPU idle), 64 x 128 (128 threads, the {@code *_m64} kernels). The
 * 128-row kernels need 61,440 bytes of dynamic shared memory, over the default 48 KB: {@link KernelLauncher} raises
 * the function's limit on first use.
 *
 * <p>Requirements, checked here ({@link #supports} for callers deciding between this and {@link GemmKernel}):
 * {@code k % 8 == 0} (16-byte cp.async chunks of bf16 rows), {@code a} and {@code w16} 16-byte aligned.
 *
 * <pre>{@code
 * if (GemmTcKernel.supports(k)) {
 *     GemmTcKernel.launch(launcher, x16, w16, bias, GemmKernel.Epilogue.BIAS_GELU, y16, m, n, k);
 * }
 * }</pre>
 */
public final class GemmTcKernel {
    public static final String MODULE = "gemm_tc";
    static final int TILE_N = 128;
    static final int TILE_K = 32;
    static final int STAGES = 3;
    /** Shared row stride in bf16 elements: 32 k + 8 padding (80-byte rows). */
    static final int SHARED_STRIDE = TILE_K + 8;
    /**
     * Streaming multiprocessors assumed for the tile choice: an H200 / H100 SXM has 132 (an A100 108). A constant, not
     * a device query: the choice only affects speed, and results are the same bit for bit either way (each output is
     * one thread's fixed-order sum).
     */
    static final int SM_COUNT = 132;
    /** The 128-row tiles are used when they give at least this many blocks (2 per SM), else the 64-row ones. */
    static final int FILL_BLOCKS = 2 * SM_COUNT;

    private GemmTcKernel() {
    }

    /** Whether this kernel can run a GEMM of inner dimension {@code k} (a multiple of 8). */
    public static boolean supports(int k) {
        return k >= 0 && k % 8 == 0;
    }

    /**
     * {@code c = epilogue(a · w16^T)}; {@code c}'s dtype ({@code FLOAT32} or {@code BFLOAT16}) picks the kernel.
     * {@code bias} {@code [n]} float32, or null with {@link GemmKernel.Epilogue#NONE}. {@code c} must not overlap the
     * inputs.
     */
    public static void launch(KernelLauncher launcher, Tensor a, Tensor w16, Tensor bias, GemmKernel.Epilogue epilogue,
                              Tensor c, int m, int n, int k) {
        launch(launcher, a, w16, bias, epilogue, c, m, n, k, 0);
    }

    /** As {@link #launch}, with {@code tileRows} 64 or 128 forcing the tile variant (0: the automatic choice). */
    static void launch(KernelLauncher launcher, Tensor a, Tensor w16, Tensor bias, GemmKernel.Epilogue epilogue,
                       Tensor c, int m, int n, int k, int tileRows) {
        if (epilogue == null) {
            throw new IllegalArgumentException("gemm_tc: epilogue is null (use Epilogue.NONE)");
        }
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm_tc: negative size m=" + m + " n=" + n + " k=" + k);
        }
        if (!supports(k)) {
            throw new IllegalArgumentException("gemm_tc: k=" + k + " must be a multiple of 8 (rows are copied in"
                    + " 16-byte chunks of 8 bf16); check GemmTcKernel.supports(k) and use GemmKernel otherwise");
        }
        if (a == null || a.dtype() != DType.BFLOAT16) {
            throw new IllegalArgumentException("gemm_tc: a must be a BFLOAT16 tensor, got " + a);
        }
        if (w16 == null || (w16.dtype() != DType.BFLOAT16 && w16.dtype() != DType.UINT8)) {
            throw new IllegalArgumentException("gemm_tc: w16 must be a BFLOAT16 tensor (or the UINT8 bytes of one, as"
                    + " ResidentWeights keeps it), got " + w16);
        }
        if (c == null || (c.dtype() != DType.FLOAT32 && c.dtype() != DType.BFLOAT16)) {
            throw new IllegalArgumentException("gemm_tc: c must be a FLOAT32 or BFLOAT16 tensor, got " + c);
        }
        if (epilogue == GemmKernel.Epilogue.BIAS_RESIDUAL && c.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("gemm_tc: epilogue BIAS_RESIDUAL needs a FLOAT32 c (the residual is"
                    + " read from c and added in float32), got " + c);
        }
        if (epilogue != GemmKernel.Epilogue.NONE) {
            if (bias == null) {
                throw new IllegalArgumentException("gemm_tc: epilogue " + epilogue + " needs a bias");
            }
            if (bias.dtype() != DType.FLOAT32 || bias.elementCount() < n) {
                throw new IllegalArgumentException("gemm_tc: bias must be FLOAT32 with at least n=" + n
                        + " elements, got " + bias);
            }
        }
        needBytes("a", a, 2L * m * k);
        needBytes("w16", w16, 2L * n * k);
        needBytes("c", c, (long) c.dtype().byteSize() * m * n);
        aligned("a", a);
        aligned("w16", w16);
        if (m == 0 || n == 0) {
            return;
        }
        int rows = tileRows != 0 ? tileRows : tileRows(m, n);
        if (rows != 64 && rows != 128) {
            throw new IllegalArgumentException("gemm_tc: tile rows " + rows + " (64 or 128)");
        }
        int gridY = KernelLauncher.ceilDiv(m, rows);
        if (gridY > 65535) {
            throw new IllegalArgumentException("gemm_tc: m=" + m + " needs " + gridY + " row blocks of " + rows
                    + " (the grid allows 65535: m up to " + 65535L * rows + ")");
        }
        String kernel = (c.dtype() == DType.FLOAT32 ? "gemm_tc_bf16_f32" : "gemm_tc_bf16_bf16")
                + (rows == 64 ? "_m64" : "");
        String shapes = "M=" + m + " N=" + n + " K=" + k + " " + epilogue + " tile " + rows + "x" + TILE_N;
        launcher.launch(MODULE, kernel, KernelLauncher.ceilDiv(n, TILE_N), gridY, 1, threads(rows),
                sharedBytes(rows), shapes, KernelArgs.of().ptr(a).ptr(w16).ptr(bias).ptr(c).i32(m).i32(n).i32(k)
                        .i32(epilogue.code));
    }

    /** 128 when the 128-row grid has at least {@link #FILL_BLOCKS} blocks, else 64. */
    static int tileRows(int m, int n) {
        long blocks128 = (long) KernelLauncher.ceilDiv(m, 128) * KernelLauncher.ceilDiv(n, TILE_N);
        return blocks128 >= FILL_BLOCKS ? 128 : 64;
    }

    /** Threads of a block: 2 warps of 64 x 32 sub-tiles per 64 rows, 4 across the 128 columns. */
    static int threads(int tileRows) {
        return 2 * tileRows;
    }

    /** Dynamic shared memory: {@link #STAGES} stages of {@code tileRows + 128} bf16 rows of {@link #SHARED_STRIDE}. */
    static int sharedBytes(int tileRows) {
        return STAGES * (tileRows + TILE_N) * SHARED_STRIDE * 2;
    }

    private static void needBytes(String name, Tensor t, long bytes) {
        long have = t.elementCount() * t.dtype().byteSize();
        if (have < bytes) {
            throw new IllegalArgumentException("gemm_tc: " + name + " holds " + have + " bytes, needs " + bytes
                    + " (" + t + ")");
        }
    }

    private static void aligned(String name, Tensor t) {
        if (t.address() % 16 != 0) {
            throw new IllegalArgumentException("gemm_tc: " + name + " must be 16-byte aligned (cp.async), its address is"
                    + " 0x" + Long.toHexString(t.address()) + " (" + t + ")");
        }
    }
}
