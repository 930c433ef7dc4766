package io.inflow.gpu.backend;

import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * The {@link Family#TRANSFORMER} kernels: what a BERT- or ViT-family encoder, its pooling and its heads need. All
 * tensors are row-major and contiguous, in the backend's memory ({@link TensorMemory}); matrices are
 * {@code [rows, cols]}, sequences {@code [batch, seq, dim]} (a {@code [batch * seq, dim]} view works wherever a
 * matrix is expected). Outputs are written into caller-provided tensors; unless a method says otherwise {@code out}
 * may alias an input of the same shape (in-place). Contract: {@code TransformerContractTest}, run on every backend
 * that supports the family.
 *
 * <p>Sequence kernels take per-row {@code lengths} (int32 {@code [batch]}, each in {@code [1, seq]}):
 * positions at or after a row's length are padding; they are never attended to and never pooled.
 *
 * <p>The fused methods ({@link #linear}, {@link #linearGelu}, {@link #linearResidual}, {@link #selfAttention}) have
 * no default: a backend without a fused kernel says so by calling the plain composition in
 * {@link TransformerComposites} itself.
 *
 * <pre>{@code
 * try (Backend cpu = Backends.create(BackendKind.CPU, 2);
 *      Tensor x = cpu.upload(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
 *      Tensor w = cpu.upload(new float[] {1, 0, 0, 0, 1, 0}, 2, 3);   // Linear weight [out, in]
 *      Tensor y = cpu.allocate(DType.FLOAT32, 2, 2)) {
 *     cpu.transformer().linear(x, w, null, y);                         // y = x · w^T
 * }
 * }</pre>
 */
public interface TransformerOps {

    // ---- linear algebra -----------------------------------------------------------------------------

    /**
     * {@code out[m, n] = a[m, k] · b}, where {@code b} is {@code [n, k]} and used transposed when
     * {@code transposeB} (the Linear-layer layout) or {@code [k, n]} otherwise. {@code out} must not alias.
     */
    void matmul(Tensor a, Tensor b, boolean transposeB, Tensor out);

    /** Adds {@code bias[n]} to every row of {@code x[m, n]} in place. */
    void addBias(Tensor x, Tensor bias);

    /**
     * A Linear layer: {@code out = x · weight^T + bias}, weight {@code [out, in]}, bias {@code [out]} or null. The
     * plain composition is {@link TransformerComposites#linear} ({@link #matmul} then {@link #addBias}).
     */
    void linear(Tensor x, Tensor weight, Tensor bias, Tensor out);

    /**
     * A Linear layer followed by GELU (erf form, as {@link #gelu}): {@code out = gelu(x · weight^T + bias)}, the
     * feed-forward up-projection of BERT. Backends that can apply the activation inside the GEMM (while the output
     * tile is in registers) do; the plain composition is {@link TransformerComposites#linearGelu}.
     */
    void linearGelu(Tensor x, Tensor weight, Tensor bias, Tensor out);

    /**
     * A Linear layer added to a residual stream: {@code residualOut += x · weight^T + bias}, the attention-output
     * and MLP-down projections of a pre-LN transformer (ViT). Backends that can add inside the GEMM's epilogue do;
     * the plain composition is {@link TransformerComposites#linearResidual} (a temporary tensor, then {@link #add}).
     */
    void linearResidual(Tensor x, Tensor weight, Tensor bias, Tensor residualOut);

    /** {@code out = a + b} element-wise (same shapes). */
    void add(Tensor a, Tensor b, Tensor out);

    /** Sets every element of a float32 tensor to {@code value}. */
    void fill(Tensor x, float value);

    /** {@code acc += alpha * x} element-wise (same shapes). */
    void scaleAdd(Tensor acc, Tensor x, float alpha);

    // ---- normalisation and activations --------------------------------------------------------------

    /**
     * LayerNorm over the last dimension of {@code y = x + residual} (residual may be null):
     * {@code out = (y - mean(y)) / sqrt(var(y) + eps) * gamma + beta}, variance biased (divided by n).
     */
    void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out);

    /**
     * {@link #layerNorm} into float32 {@code out}, and the same values in the backend's {@link #activationType} into
     * {@code lowCopy} (the next GEMM's operand) when it is another tensor. Encoders call it with {@code lowCopy == out}
     * or null where the activation type is float32, so the CPU backends only ever run the plain LayerNorm.
     */
    default void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out,
                           Tensor lowCopy) {
        if (lowCopy != null && lowCopy != out) {
            throw new UnsupportedOperationException("layerNorm: this backend keeps activations in float32; lowCopy "
                    + lowCopy + " must be null or out");
        }
        layerNorm(x, residual, gamma, beta, eps, out);
    }

    /** GELU, erf form: {@code x * 0.5 * (1 + erf(x / sqrt(2)))}. */
    void gelu(Tensor x, Tensor out);

    /** Quick GELU (CLIP): {@code x * sigmoid(1.702 * x)}. */
    void quickGelu(Tensor x, Tensor out);

    /** Gated linear unit: rows of {@code x[m, 2h]} split as {@code [a | b]}; {@code out[m, h] = a * gate(b)}. */
    void glu(Tensor x, GluGate gate, Tensor out);

    /** Scales each row of {@code x[m, n]} to unit L2 norm (rows of norm 0 stay 0). */
    void l2Normalize(Tensor x, Tensor out);

    // ---- sequence kernels ---------------------------------------------------------------------------

    /**
     * Embedding gather: {@code out[b, s, :] = word[ids[b, s]] + position[s] + type[types[b, s]]}.
     * {@code tokenTypes} (int32 [b, s]) and {@code typeTable} may be null (type 0 is used when only
     * {@code tokenTypes} is null; no type embedding is added when {@code typeTable} is null).
     * Ids outside {@code [0, vocab)} fail naming the value and the limit.
     */
    void embed(Tensor ids, Tensor tokenTypes, Tensor wordTable, Tensor positionTable, Tensor typeTable, Tensor out);

    /**
     * Multi-head scaled dot-product self-attention with a key-padding mask:
     * {@code q, k, v, out} are {@code [b, s, heads * headDim]}; for each row and head,
     * {@code out_i = softmax_j<len(q_i · k_j / sqrt(headDim))} · v_j}. Query rows at padding positions
     * are written as zeros. {@code out} must not alias q, k or v.
     */
    void attention(Tensor q, Tensor k, Tensor v, Tensor lengths, int heads, Tensor out);

    /**
     * Self-attention with its input projections, as in a BERT layer: {@code q = x · wq^T + bq} (likewise k, v;
     * biases may be null), then {@link #attention}{@code (q, k, v, lengths, heads, out)}. {@code x} and {@code out}
     * are {@code [b, s, d]}, the weights {@code [d, d]}; {@code qkv} is scratch of {@code 3 * b * s * d} floats
     * whose contents are undefined afterwards (any shape). The plain composition
     * ({@link TransformerComposites#selfAttention}) runs three {@link #linear}s into consecutive thirds of
     * {@code qkv}; a backend may instead run one GEMM against the concatenated weights and read q, k and v from
     * interleaved rows. {@code out} must not alias {@code x} or {@code qkv}.
     */
    void selfAttention(Tensor x, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv,
                       Tensor lengths, int heads, Tensor qkv, Tensor out);

    // ---- weights declared at load -------------------------------------------------------------------

    /**
     * Declares Linear weights ({@code [out, in]}, passed to {@link #linear} and its fused variants) that stay
     * unchanged until they are closed, so the backend may keep a form of each that its GEMM reads faster (the CUDA
     * backend: a copy rounded once to its 16-bit GEMM precision, bit for bit the per-call rounding). Optional: results
     * are the same with or without it. Default: nothing.
     *
     * <p>{@code ops.prepareWeights(layer.attentionOut(), layer.intermediate(), layer.output());   // once, at load}
     */
    default void prepareWeights(Tensor... linearWeights) {
    }

    /**
     * Declares the projections of one {@link #selfAttention} (biases may be null) as unchanged until closed, so the
     * backend may keep them fused (the CUDA backend: one {@code [3d, d]} weight and {@code [3d]} bias, for one GEMM
     * into {@code qkv}). Optional: results are the same with or without it. Default: nothing.
     */
    default void prepareSelfAttention(Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv) {
    }

    // ---- activation precision and recorded forward passes -------------------------------------------

    /**
     * The element type an encoder should keep the activations between its GEMMs in (the GEMM operands: the fused
     * QKV, the attention context, the FFN's intermediate and the LayerNorm outputs that feed a GEMM) for a model with
     * attention heads of {@code headDim} and GELU activations. The residual stream, the hidden states handed to
     * poolers and every output stay float32. Default: {@link DType#FLOAT32} (the CPU backends); the CUDA backend
     * answers {@link DType#BFLOAT16} at BF16 GEMM precision where its tensor-core kernels cover the shape.
     */
    default DType activationType(int headDim) {
        return DType.FLOAT32;
    }

    /**
     * Runs {@code forward}, a sequence of this family's calls whose work depends only on the shapes under
     * {@code key} (and the tensors it names). A backend that can replay recorded work (CUDA graphs) records the
     * kernels {@code forward} launches and, when the same launches recur under the same key, runs them as one graph:
     * the argument checks in {@code forward} still run every time. Results are the same as running {@code forward}.
     * Default: {@code forward.run()}.
     *
     * <p>{@code ops.recorded(List.of("bert", batch, seq), () -> layers(x));}
     */
    default void recorded(Object key, Runnable forward) {
        forward.run();
    }

    // ---- pooling ------------------------------------------------------------------------------------

    /** Mask-aware mean over the first {@code lengths[b]} positions: {@code hidden[b, s, d] -> out[b, d]}. */
    void meanPool(Tensor hidden, Tensor lengths, Tensor out);

    /** The first position (CLS token): {@code out[b, :] = hidden[b, 0, :]}. */
    void firstTokenPool(Tensor hidden, Tensor out);

    /** The last non-padding position: {@code out[b, :] = hidden[b, lengths[b] - 1, :]}. */
    void lastTokenPool(Tensor hidden, Tensor lengths, Tensor out);
}
