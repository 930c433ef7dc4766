package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.quant.Dyadic;
import io.inflow.gpu.quant.Requant;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code quant.cu}, the integer-only {@code QUANTIZED} family, bit for bit the integers of
 * {@code QuantizedReference}: {@code qlinear_s8} / {@code qlinear_wide_s8} (INT8 tensor-core GEMM with the bias and
 * per-channel dyadic requant in the epilogue; the wide one combines a high and a low int8 plane in 64 bits),
 * {@code qattention_s8} (one block per query row and head: integer scores, Shiftmax, context), {@code qlayernorm_i32}
 * (I-LayerNorm, one block per row), {@code qgelu_i32} (ShiftGELU), {@code qembed_s8}, {@code dequantize_i32},
 * {@code quantize_f32} and {@code qadd_i32}. Arguments must have been checked on the host ({@code CudaQuantizedOps});
 * parameters arrive as device tensors: INT8 tables and weights as raw bytes (any tensor), a requant as one INT32
 * tensor {@code [2c]} (multipliers, then shifts), a LayerNorm as INT32 {@code [6d]} (see {@link #layerNorm}).
 *
 * <pre>{@code
 * QuantKernel.linear(launcher, false, x, weights, bias, requant, n, Requant.Output.INT8, out, m, n, k);
 * QuantKernel.attention(launcher, qkv, lengths, out, batch, seq, heads, headDim, score, ctx, d, Requant.Output.INT8);
 * }</pre>
 */
public final class QuantKernel {
    public static final String MODULE = "quant";
    static final int GEMM_TILE = 64;
    static final int GEMM_THREADS = 128;
    static final int ROW_THREADS = 128;
    static final int ELEMENT_THREADS = 256;
    /** Largest k of the wide GEMM: each plane's int32 accumulator stays exact (128 * 127 * 2^17 < 2^31). */
    public static final int MAX_WIDE_K = 1 << 17;
    /** Dynamic shared memory a row kernel may ask for (attention: the scores of a query row; LayerNorm: the row). */
    public static final int MAX_ROW_SHARED = 200 * 1024;

    private QuantKernel() {
    }

    /** The kernels' output code of a requant: 0 INT8, 1 INT16, 2 INT32 ({@code quant_int.cuh}). */
    static int code(Requant.Output output) {
        return switch (output) {
            case INT8 -> 0;
            case INT16 -> 1;
            case INT32 -> 2;
        };
    }

    /**
     * {@code qlinear_s8} (or {@code qlinear_wide_s8} when {@code wide}: x {@code [m, 2k]}). C signature {@code (x, w,
     * bias, mul, shift, out8, out32, m, n, k, output)}; {@code requant} holds {@code channels} multipliers then
     * shifts. Grid {@code (ceil(n / 64), ceil(m / 64))}, 128 threads, static shared memory only.
     */
    public static void linear(KernelLauncher launcher, boolean wide, Tensor x, Tensor weights, Tensor bias,
                              Tensor requant, int channels, Requant.Output output, Tensor out, int m, int n, int k) {
        if (wide && k > MAX_WIDE_K) {
            throw new IllegalArgumentException("CUDA linearWide supports k up to " + MAX_WIDE_K + " (the int32 plane"
                    + " accumulators stay exact), requested k = " + k);
        }
        if (m == 0 || n == 0) {
            return;
        }
        int gridY = KernelLauncher.ceilDiv(m, GEMM_TILE);
        if (gridY > 65535) {
            throw new IllegalArgumentException("CUDA quantized linear supports up to " + 65535 * GEMM_TILE
                    + " rows (requested " + m + ")");
        }
        boolean int32 = output == Requant.Output.INT32;
        launcher.launch(MODULE, wide ? "qlinear_wide_s8" : "qlinear_s8", KernelLauncher.ceilDiv(n, GEMM_TILE), gridY,
                1, GEMM_THREADS, 0, "m=" + m + " n=" + n + " k=" + k + " " + output,
                KernelArgs.of().ptr(x).ptr(weights).ptr(bias).ptr(multipliers(requant, channels))
                        .ptr(shifts(requant, channels)).ptr(int32 ? null : out).ptr(int32 ? out : null)
                        .i32(m).i32(n).i32(k).i32(code(output)));
    }

    /** Dynamic shared memory of {@code qattention_s8}: the query row and the row's scores, as ints. */
    public static int attentionSharedBytes(int seq, int headDim) {
        return (int) Math.min(Integer.MAX_VALUE, 4L * ((long) headDim + seq));
    }

    /**
     * {@code qattention_s8}. C signature {@code (qkv, lengths, out8, out32, seq, heads, head_dim, score_mul,
     * score_shift, ctx_mul, ctx_shift, output)}; {@code ctx} holds {@code channels} multipliers then shifts. Grid
     * {@code (seq, heads, batch)}, 128 threads.
     */
    public static void attention(KernelLauncher launcher, Tensor qkv, Tensor lengths, Tensor out, int batch, int seq,
                                 int heads, int headDim, Dyadic score, Tensor ctx, int channels,
                                 Requant.Output output) {
        int shared = attentionSharedBytes(seq, headDim);
        if (shared > MAX_ROW_SHARED) {
            throw new IllegalArgumentException("CUDA quantized attention keeps a query row's scores in shared memory:"
                    + " seq " + seq + " with head dimension " + headDim + " needs " + shared + " bytes (at most "
                    + MAX_ROW_SHARED + ")");
        }
        if (heads > 65535 || batch > 65535) {
            throw new IllegalArgumentException("CUDA quantized attention supports batch and heads up to 65535"
                    + " (requested batch " + batch + ", heads " + heads + ")");
        }
        if (batch == 0 || seq == 0 || heads == 0) {
            return;
        }
        boolean int32 = output == Requant.Output.INT32;
        launcher.launch(MODULE, "qattention_s8", seq, heads, batch, ROW_THREADS, shared,
                "b=" + batch + " s=" + seq + " heads=" + heads + " head_dim=" + headDim + " " + output,
                KernelArgs.of().ptr(qkv).ptr(lengths).ptr(int32 ? null : out).ptr(int32 ? out : null).i32(seq)
                        .i32(heads).i32(headDim).i32(score.multiplier()).i32(score.shift())
                        .ptr(multipliers(ctx, channels)).ptr(shifts(ctx, channels)).i32(code(output)));
    }

    /**
     * {@code qlayernorm_i32}. C signature {@code (x, residual, params, out8, out32, rows, d)}; {@code params} INT32
     * {@code [6d]}: int8 multipliers, shifts, biases, then residual multipliers, shifts, biases. {@code residual},
     * {@code out8} or {@code out32} may be null. One block of 128 threads per row, {@code 4 d} bytes of dynamic shared
     * memory.
     */
    public static void layerNorm(KernelLauncher launcher, Tensor x, Tensor residual, Tensor params, Tensor out8,
                                 Tensor out32, int rows, int d) {
        if (4L * d > MAX_ROW_SHARED) {
            throw new IllegalArgumentException("CUDA quantized layerNorm keeps a row in shared memory: width " + d
                    + " exceeds " + MAX_ROW_SHARED / 4);
        }
        if (rows == 0 || d == 0) {
            return;
        }
        launcher.launch(MODULE, "qlayernorm_i32", rows, 1, 1, ROW_THREADS, 4 * d,
                "rows=" + rows + " d=" + d + (residual == null ? "" : " +residual"),
                KernelArgs.of().ptr(x).ptr(residual).ptr(params).ptr(out8).ptr(out32).i32(rows).i32(d));
    }

    /** {@code qgelu_i32}. C signature {@code (x, mul, shift, out8, out32, rows, f, output)}; grid-stride. */
    public static void gelu(KernelLauncher launcher, Tensor x, Tensor requant, int channels, Requant.Output output,
                            Tensor out, int rows, int f) {
        long n = (long) rows * f;
        if (n == 0) {
            return;
        }
        boolean int32 = output == Requant.Output.INT32;
        launcher.launch(MODULE, "qgelu_i32", KernelLauncher.blocksFor(n, ELEMENT_THREADS), 1, 1, ELEMENT_THREADS, 0,
                "rows=" + rows + " f=" + f + " " + output,
                KernelArgs.of().ptr(x).ptr(multipliers(requant, channels)).ptr(shifts(requant, channels))
                        .ptr(int32 ? null : out).ptr(int32 ? out : null).i64(rows).i32(f).i32(code(output)));
    }

    /**
     * {@code qembed_s8}. C signature {@code (ids, word, word_mul, word_shift, position, position_mul, position_shift,
     * type, type_mul, type_shift, out, seq, d)}; each table's dyadics tensor holds its {@code rows} multipliers then
     * shifts ({@code type} and its dyadics may be null). One block of 128 threads per token.
     */
    public static void embed(KernelLauncher launcher, Tensor ids, Tensor word, Tensor wordDyadics, int wordRows,
                             Tensor position, Tensor positionDyadics, int positionRows, Tensor type,
                             Tensor typeDyadics, int typeRows, Tensor out, int batch, int seq, int d) {
        if (batch == 0 || seq == 0 || d == 0) {
            return;
        }
        launcher.launch(MODULE, "qembed_s8", batch * seq, 1, 1, ROW_THREADS, 0,
                "b=" + batch + " s=" + seq + " d=" + d + (type == null ? "" : " +type"),
                KernelArgs.of().ptr(ids).ptr(word).ptr(multipliers(wordDyadics, wordRows))
                        .ptr(shifts(wordDyadics, wordRows)).ptr(position)
                        .ptr(multipliers(positionDyadics, positionRows)).ptr(shifts(positionDyadics, positionRows))
                        .ptr(type).ptr(type == null ? null : multipliers(typeDyadics, typeRows))
                        .ptr(type == null ? null : shifts(typeDyadics, typeRows)).ptr(out).i32(seq).i32(d));
    }

    /** {@code dequantize_i32}. C signature {@code (x, out, fraction_bits, n)}. */
    public static void dequantize(KernelLauncher launcher, Tensor x, int fractionBits, Tensor out, long n) {
        if (n > 0) {
            launcher.launch(MODULE, "dequantize_i32", KernelLauncher.blocksFor(n, ELEMENT_THREADS), 1, 1,
                    ELEMENT_THREADS, 0, "n=" + n, KernelArgs.of().ptr(x).ptr(out).i32(fractionBits).i64(n));
        }
    }

    /** {@code quantize_f32}. C signature {@code (x, out, inv, n)}; {@code inv} the float32 reciprocal of the scale. */
    public static void quantize(KernelLauncher launcher, Tensor x, float inv, Tensor out, long n) {
        if (n > 0) {
            launcher.launch(MODULE, "quantize_f32", KernelLauncher.blocksFor(n, ELEMENT_THREADS), 1, 1,
                    ELEMENT_THREADS, 0, "n=" + n, KernelArgs.of().ptr(x).ptr(out).f32(inv).i64(n));
        }
    }

    /** {@code qadd_i32}. C signature {@code (a, b, out, n)}; out may alias a or b. */
    public static void add(KernelLauncher launcher, Tensor a, Tensor b, Tensor out, long n) {
        if (n > 0) {
            launcher.launch(MODULE, "qadd_i32", KernelLauncher.blocksFor(n, ELEMENT_THREADS), 1, 1, ELEMENT_THREADS,
                    0, "n=" + n, KernelArgs.of().ptr(a).ptr(b).ptr(out).i64(n));
        }
    }

    /** The multipliers of a dyadics tensor {@code [2 * channels]} (a view). */
    static Tensor multipliers(Tensor dyadics, int channels) {
        check(dyadics, channels);
        return dyadics.view(0, channels);
    }

    /** The shifts of a dyadics tensor {@code [2 * channels]} (a view). */
    static Tensor shifts(Tensor dyadics, int channels) {
        check(dyadics, channels);
        return dyadics.view(channels, channels);
    }

    private static void check(Tensor dyadics, int channels) {
        if (dyadics.dtype() != DType.INT32 || dyadics.elementCount() != 2L * channels) {
            throw new IllegalArgumentException("dyadics of " + channels + " channels must be INT32 [" + 2 * channels
                    + "], found " + dyadics);
        }
    }
}
