package io.inflow.gpu.backend;

import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * The compute contract every backend implements: memory (allocation goes through the backend so a CUDA
 * backend can hand out device memory) and the kernels a BERT-family encoder, its pooling and its heads
 * need, plus image preprocessing and the ViT patch embedding's im2col. All tensors are row-major and contiguous; matrices are {@code [rows, cols]}, sequences
 * {@code [batch, seq, dim]} (a {@code [batch * seq, dim]} view works wherever a matrix is expected).
 * Outputs are written into caller-provided tensors; unless a method says otherwise {@code out} may alias
 * an input of the same shape (in-place).
 *
 * <p>Sequence kernels take per-row {@code lengths} (int32 {@code [batch]}, each in {@code [1, seq]}):
 * positions at or after a row's length are padding; they are never attended to and never pooled.
 *
 * <pre>{@code
 * try (Backend cpu = Backends.create(BackendKind.CPU, 2);
 *      Tensor x = cpu.upload(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
 *      Tensor w = cpu.upload(new float[] {1, 0, 0, 0, 1, 0}, 2, 3);   // Linear weight [out, in]
 *      Tensor y = cpu.allocate(DType.FLOAT32, 2, 2)) {
 *     cpu.linear(x, w, null, y);                                       // y = x · w^T
 * }
 * }</pre>
 */
public interface Backend extends AutoCloseable {

    /** The kind this backend implements (never {@code AUTO}). */
    BackendKind kind();

    /** A short name for logs and benchmark tables, e.g. {@code cpu-fast(2 threads)}. */
    String name();

    // ---- memory -------------------------------------------------------------------------------------

    /** Allocates an owned tensor (contents undefined); close it, or close the backend, to free it. */
    Tensor allocate(DType dtype, int... shape);

    /** Allocates a float32 tensor and copies {@code data} (host to backend memory) into it. */
    Tensor upload(float[] data, int... shape);

    /** Allocates an int32 tensor and copies {@code data} into it. */
    Tensor upload(int[] data, int... shape);

    /** Copies a float32 tensor (backend memory) into a new host array. */
    float[] download(Tensor t);

    /**
     * Overwrites {@code dst} (backend memory, int32) with {@code src}, whose length must equal its element count.
     * The CPU backends write in place; the CUDA backend copies host to device.
     */
    default void write(Tensor dst, int[] src) {
        dst.copyFrom(src);
    }

    /** Copies {@code src} into {@code dst} (both backend memory, same dtype and element count). */
    default void copy(Tensor src, Tensor dst) {
        dst.copyFrom(src);
    }

    // ---- linear algebra -----------------------------------------------------------------------------

    /**
     * {@code out[m, n] = a[m, k] · b}, where {@code b} is {@code [n, k]} and used transposed when
     * {@code transposeB} (the Linear-layer layout) or {@code [k, n]} otherwise. {@code out} must not alias.
     */
    void matmul(Tensor a, Tensor b, boolean transposeB, Tensor out);

    /** Adds {@code bias[n]} to every row of {@code x[m, n]} in place. */
    void addBias(Tensor x, Tensor bias);

    /** A Linear layer: {@code out = x · weight^T + bias}, weight {@code [out, in]}, bias {@code [out]} or null. */
    default void linear(Tensor x, Tensor weight, Tensor bias, Tensor out) {
        matmul(x, weight, true, out);
        if (bias != null) {
            addBias(out, bias);
        }
    }

    /**
     * A Linear layer followed by GELU (erf form, as {@link #gelu}): {@code out = gelu(x · weight^T + bias)}, the
     * feed-forward up-projection of BERT. Backends that can apply the activation inside the GEMM (while the
     * output tile is in registers) override this; the default is {@link #linear} then {@link #gelu} in place.
     */
    default void linearGelu(Tensor x, Tensor weight, Tensor bias, Tensor out) {
        linear(x, weight, bias, out);
        gelu(out, out);
    }

    /**
     * A Linear layer added to a residual stream: {@code residualOut += x · weight^T + bias}, the attention-output
     * and MLP-down projections of a pre-LN transformer (ViT). Backends that can add inside the GEMM's epilogue
     * override this; the default computes {@link #linear} into a temporary tensor and {@link #add}s it.
     */
    default void linearResidual(Tensor x, Tensor weight, Tensor bias, Tensor residualOut) {
        try (Tensor t = allocate(DType.FLOAT32, residualOut.shape())) {
            linear(x, weight, bias, t);
            add(residualOut, t, residualOut);
        }
    }

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
     * whose contents are undefined afterwards (any shape). The default runs three {@link #linear}s into
     * consecutive thirds of {@code qkv}; a backend may instead run one GEMM against the concatenated weights and
     * read q, k and v from interleaved rows. {@code out} must not alias {@code x} or {@code qkv}.
     */
    default void selfAttention(Tensor x, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv,
                               Tensor lengths, int heads, Tensor qkv, Tensor out) {
        int b = x.dim(0);
        int s = x.dim(1);
        int d = x.dim(2);
        long td = (long) b * s * d;
        if (qkv.elementCount() != 3 * td) {
            throw new IllegalArgumentException("selfAttention: qkv scratch has " + qkv.elementCount()
                    + " elements, needs 3 x " + b + " x " + s + " x " + d + " = " + 3 * td);
        }
        Tensor q = qkv.view(0, b, s, d);
        Tensor k = qkv.view(td, b, s, d);
        Tensor v = qkv.view(2 * td, b, s, d);
        Tensor x2 = x.reshape(b * s, d);
        linear(x2, wq, bq, q.reshape(b * s, d));
        linear(x2, wk, bk, k.reshape(b * s, d));
        linear(x2, wv, bv, v.reshape(b * s, d));
        attention(q, k, v, lengths, heads, out);
    }

    // ---- pooling ------------------------------------------------------------------------------------

    /** Mask-aware mean over the first {@code lengths[b]} positions: {@code hidden[b, s, d] -> out[b, d]}. */
    void meanPool(Tensor hidden, Tensor lengths, Tensor out);

    /** The first position (CLS token): {@code out[b, :] = hidden[b, 0, :]}. */
    void firstTokenPool(Tensor hidden, Tensor out);

    /** The last non-padding position: {@code out[b, :] = hidden[b, lengths[b] - 1, :]}. */
    void lastTokenPool(Tensor hidden, Tensor lengths, Tensor out);

    // ---- images -------------------------------------------------------------------------------------

    /**
     * Resize + centre-crop + colour-convert + rescale/mean/std normalise a batch of decoded 8-bit images of any size
     * into model input, with exactly the semantics of {@link io.inflow.gpu.image.ImagePreprocessor#preprocess} per
     * image (PIL luma or gray replication first, then the {@link io.inflow.gpu.image.Resampler} filter, shortest-edge
     * resize and centre crop when configured, then {@code (s * rescale - mean[c]) / std[c]}, written channel-major).
     *
     * <p>The inputs are the buffers of a {@link io.inflow.gpu.batch.DecodedImageBatch}: {@code pixels} uint8
     * {@code [bytes]} (image {@code i} is {@code pixels[offsets[i] .. offsets[i + 1])}, interleaved
     * {@code [height, width, channels]}), int32 {@code offsets [b + 1]}, int32 {@code widths}, {@code heights} and
     * {@code channels [b]} (1 or 3). They may be host tensors (wrapped Arrow buffers) on every backend; a device
     * backend copies them itself. {@code out} is backend memory, float32
     * {@code [b, config.channels(), config.height(), config.width()]}. An image whose byte count disagrees with its
     * size, or with channels other than 1 or 3, fails naming the image.
     */
    void preprocessImages(Tensor pixels, Tensor offsets, Tensor widths, Tensor heights, Tensor channels,
                          ImagePreprocessConfig config, Tensor out);

    /**
     * im2col for a ViT patch embedding: float32 {@code pixels [b, c, s, s]} to {@code out [b * (s/p)^2, c * p * p]},
     * patches in row-major grid order, each row in the convolution weight's {@code (c, ky, kx)} order, so that
     * {@code linear(out, weight.reshape(d, c * p * p), bias)} is the stride-{@code p} convolution. {@code patch} must
     * divide {@code s}; {@code out} must not alias {@code pixels}.
     */
    void patchify(Tensor pixels, int patch, Tensor out);

    /** Frees what the backend holds (thread pools, allocators); fails if tensors it allocated are still open. */
    @Override
    void close();
}
