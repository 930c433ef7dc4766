package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code attention.cu}: {@code attention_f32}, fused masked multi-head attention with an online
 * softmax, over separate q, k and v ({@link #launch}) or over the interleaved rows of one fused projection
 * {@code qkv [b, s, 3d]}, the output of the fused QKV GEMM ({@link #launchFused}: the same kernel, q, k and v at
 * column offsets 0, d and 2d with row stride 3d). CPU twin: {@code AttentionReference}. Grid
 * {@code (ceil(seq / 16), heads, batch)}, 128 threads, dynamic shared memory per {@link #sharedBytes}. C signature
 * {@code (q, k, v, lengths, out, seq, heads, head_dim, in_stride, scale)}.
 *
 * <pre>{@code
 * AttentionKernel.launch(launcher, q, k, v, lengths, out, batch, seq, heads, headDim);
 * AttentionKernel.launchFused(launcher, qkv, lengths, out, batch, seq, heads, headDim);
 * }</pre>
 */
public final class AttentionKernel {
    public static final String MODULE = "attention";
    public static final String FUNCTION = "attention_f32";
    static final int Q_BLOCK = 16;
    static final int K_BLOCK = 32;
    static final int THREADS = 128;
    /** Largest head dimension: the shared tiles grow with it (about 51 KB at 128, above the default 48 KB limit,
     *  which the launcher raises through cuFuncSetAttribute). */
    public static final int MAX_HEAD_DIM = 128;

    private AttentionKernel() {
    }

    /**
     * Bytes of dynamic shared memory, mirroring the layout in attention.cu:
     * {@code Qs[16][hd] | Ks[32][hd+1] | Vs[32][hd] | P[16][32] | O[16][hd] | M[16] | L[16] | Corr[16]} floats.
     */
    public static int sharedBytes(int headDim) {
        int floats = Q_BLOCK * headDim + K_BLOCK * (headDim + 1) + K_BLOCK * headDim + Q_BLOCK * K_BLOCK
                + Q_BLOCK * headDim + 3 * Q_BLOCK;
        return 4 * floats;
    }

    public static void launch(KernelLauncher launcher, Tensor q, Tensor k, Tensor v, Tensor lengths, Tensor out,
                              int batch, int seq, int heads, int headDim) {
        launchStrided(launcher, q, k, v, heads * headDim, lengths, out, batch, seq, heads, headDim, "");
    }

    /**
     * Attention over q, k and v interleaved per row in {@code qkv} ({@code [batch, seq, 3 * heads * headDim]}: the
     * columns of q, then k, then v); {@code out} is {@code [batch, seq, heads * headDim]}.
     */
    public static void launchFused(KernelLauncher launcher, Tensor qkv, Tensor lengths, Tensor out, int batch,
                                   int seq, int heads, int headDim) {
        if (!anythingToLaunch(batch, seq, heads, headDim)) {
            return;
        }
        int d = heads * headDim;
        int span = Math.toIntExact(qkv.elementCount() - 2L * d);   // each column block's start to the buffer's end
        Tensor q = qkv.view(0, span);
        Tensor k = qkv.view(d, span);
        Tensor v = qkv.view(2L * d, span);
        launchStrided(launcher, q, k, v, 3 * d, lengths, out, batch, seq, heads, headDim, " fused qkv");
    }

    private static void launchStrided(KernelLauncher launcher, Tensor q, Tensor k, Tensor v, int inStride,
                                      Tensor lengths, Tensor out, int batch, int seq, int heads, int headDim,
                                      String layout) {
        if (anythingToLaunch(batch, seq, heads, headDim)) {
            launcher.launch(MODULE, FUNCTION, KernelLauncher.ceilDiv(seq, Q_BLOCK), heads, batch, THREADS,
                    sharedBytes(headDim), shapes(batch, seq, heads, headDim) + layout,
                    KernelArgs.of().ptr(q).ptr(k).ptr(v).ptr(lengths).ptr(out).i32(seq).i32(heads).i32(headDim)
                            .i32(inStride).f32(scale(headDim)));
        }
    }

    /** Whether there is anything to launch; fails on sizes the kernel does not support. */
    private static boolean anythingToLaunch(int batch, int seq, int heads, int headDim) {
        if (headDim > MAX_HEAD_DIM) {
            throw new IllegalArgumentException("CUDA attention supports head dimensions up to " + MAX_HEAD_DIM
                    + " (requested " + headDim + ")");
        }
        if (batch > 65535 || heads > 65535) {
            throw new IllegalArgumentException("CUDA attention supports batch and heads up to 65535 (requested batch "
                    + batch + ", heads " + heads + ")");
        }
        return batch != 0 && seq != 0;
    }

    private static String shapes(int batch, int seq, int heads, int headDim) {
        return "b=" + batch + " s=" + seq + " heads=" + heads + " head_dim=" + headDim;
    }

    private static float scale(int headDim) {
        return (float) (1.0 / Math.sqrt(headDim));
    }
}
