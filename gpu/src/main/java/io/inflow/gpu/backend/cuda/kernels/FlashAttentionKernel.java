package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code flash_attention.cu}: FlashAttention-2-style masked multi-head self-attention on tensor cores
 * (bf16 {@code mma.sync}, fp32 online softmax), reading q, k and v in place from the fused QKV projection
 * {@code qkv} (bf16 {@code [batch * seq, 3 * heads * headDim]}) and writing the heads' contexts concatenated to
 * {@code out} (bf16 {@code [batch * seq, heads * headDim]}); padded query rows (position {@code >= lengths[b]}) are
 * written as zeros. One kernel per head dimension ({@code flash_attention_bf16_hd32}, {@code _hd64}, {@code _hd128}:
 * see {@link #supports}). Grid {@code (ceil(seq / 64), heads, batch)}, 128 threads, dynamic shared memory per
 * {@link #sharedBytes} (above 48 KB at head dimension 128: the launcher raises the limit). C signature
 * {@code (qkv, lengths, out, seq, heads, scale_log2)} with {@code scale_log2 = log2(e) / sqrt(headDim)}. CPU twin:
 * {@code AttentionReference} (float32, on the same bf16-rounded values).
 *
 * <pre>{@code
 * if (FlashAttentionKernel.supports(headDim)) {
 *     FlashAttentionKernel.launch(launcher, qkv, lengths, out, batch, seq, heads, headDim);
 * }
 * }</pre>
 */
public final class FlashAttentionKernel {
    public static final String MODULE = "flash_attention";
    static final int Q_TILE = 64;
    static final int K_TILE = 64;
    static final int THREADS = 128;
    /** bf16 elements of padding per shared-memory row (flash_attention.cu's PAD). */
    static final int PAD = 8;

    private FlashAttentionKernel() {
    }

    /** Whether a kernel is instantiated for {@code headDim}: 32 (MiniLM, bge-small, the bundled ViT), 64 or 128. */
    public static boolean supports(int headDim) {
        return headDim == 32 || headDim == 64 || headDim == 128;
    }

    /** The kernel's name for a supported head dimension. */
    public static String function(int headDim) {
        requireSupported(headDim);
        return "flash_attention_bf16_hd" + headDim;
    }

    /**
     * Bytes of dynamic shared memory, mirroring the layout in flash_attention.cu:
     * {@code Qs[64][hd+8] | Ks[2][64][hd+8] | Vs[2][64][hd+8]} bf16 (25,600 / 46,080 / 87,040 bytes at 32 / 64 / 128).
     */
    public static int sharedBytes(int headDim) {
        return (Q_TILE + 4 * K_TILE) * (headDim + PAD) * DType.BFLOAT16.byteSize();
    }

    /**
     * Launches the attention over {@code qkv} (bf16 {@code [batch * seq, 3 * heads * headDim]}, 16-byte aligned),
     * {@code lengths} (int32 {@code [batch]}, each in {@code 1 .. seq}; not checked here: the caller's
     * {@code checkLengths} does), into {@code out} (bf16 {@code [batch * seq, heads * headDim]}, not aliasing
     * {@code qkv}). Fails on an unsupported head dimension, wrong dtypes or sizes, or a misaligned {@code qkv}.
     */
    public static void launch(KernelLauncher launcher, Tensor qkv, Tensor lengths, Tensor out, int batch, int seq,
                              int heads, int headDim) {
        requireSupported(headDim);
        if (batch < 0 || seq < 0 || heads < 1) {
            throw new IllegalArgumentException("flash attention: bad sizes " + shapes(batch, seq, heads, headDim));
        }
        if (batch > 65535 || heads > 65535) {
            throw new IllegalArgumentException("CUDA flash attention supports batch and heads up to 65535 (requested "
                    + shapes(batch, seq, heads, headDim) + ")");
        }
        long rows = (long) batch * seq;
        long d = (long) heads * headDim;
        require(qkv, DType.BFLOAT16, rows * 3 * d, "qkv", batch, seq, heads, headDim);
        require(out, DType.BFLOAT16, rows * d, "out", batch, seq, heads, headDim);
        require(lengths, DType.INT32, batch, "lengths", batch, seq, heads, headDim);
        if (qkv.address() % 16 != 0) {
            throw new IllegalArgumentException("flash attention: qkv must be 16-byte aligned (cp.async), got "
                    + qkv + " at offset " + qkv.address() % 16);
        }
        if (batch == 0 || seq == 0) {
            return;
        }
        launcher.launch(MODULE, function(headDim), KernelLauncher.ceilDiv(seq, Q_TILE), heads, batch, THREADS,
                sharedBytes(headDim), shapes(batch, seq, heads, headDim),
                KernelArgs.of().ptr(qkv).ptr(lengths).ptr(out).i32(seq).i32(heads).f32(scaleLog2(headDim)));
    }

    /** {@code log2(e) / sqrt(headDim)}: the softmax scale with exp's base change folded in (the kernel uses exp2). */
    static float scaleLog2(int headDim) {
        return (float) (1.0 / (Math.sqrt(headDim) * Math.log(2.0)));
    }

    private static void requireSupported(int headDim) {
        if (!supports(headDim)) {
            throw new IllegalArgumentException("CUDA flash attention supports head dimensions 32, 64 and 128"
                    + " (requested " + headDim + ")");
        }
    }

    private static void require(Tensor t, DType dtype, long elements, String name, int batch, int seq, int heads,
                                int headDim) {
        if (t.dtype() != dtype || t.elementCount() != elements) {
            throw new IllegalArgumentException("flash attention: " + name + " must be " + dtype + " with " + elements
                    + " elements for " + shapes(batch, seq, heads, headDim) + ", got " + t);
        }
    }

    private static String shapes(int batch, int seq, int heads, int headDim) {
        return "b=" + batch + " s=" + seq + " heads=" + heads + " head_dim=" + headDim;
    }
}
