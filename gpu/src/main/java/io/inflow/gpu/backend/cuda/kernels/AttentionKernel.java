package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code attention.cu}: {@code attention_f32}, fused masked multi-head attention with an online
 * softmax. CPU twin: {@code AttentionReference}. Grid {@code (ceil(seq / 16), heads, batch)}, 128 threads, dynamic
 * shared memory per {@link #sharedBytes}. C signature {@code (q, k, v, lengths, out, seq, heads, head_dim, scale)}.
 *
 * <p>{@code AttentionKernel.launch(launcher, q, k, v, lengths, out, batch, seq, heads, headDim);}
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
        if (headDim > MAX_HEAD_DIM) {
            throw new IllegalArgumentException("CUDA attention supports head dimensions up to " + MAX_HEAD_DIM
                    + " (requested " + headDim + ")");
        }
        if (batch > 65535 || heads > 65535) {
            throw new IllegalArgumentException("CUDA attention supports batch and heads up to 65535 (requested batch "
                    + batch + ", heads " + heads + ")");
        }
        if (batch == 0 || seq == 0) {
            return;
        }
        String shapes = "b=" + batch + " s=" + seq + " heads=" + heads + " head_dim=" + headDim;
        launcher.launch(MODULE, FUNCTION, KernelLauncher.ceilDiv(seq, Q_BLOCK), heads, batch, THREADS,
                sharedBytes(headDim), shapes,
                KernelArgs.of().ptr(q).ptr(k).ptr(v).ptr(lengths).ptr(out).i32(seq).i32(heads).i32(headDim)
                        .f32((float) (1.0 / Math.sqrt(headDim))));
    }
}
