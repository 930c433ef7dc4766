package io.inflow.gpu.quant;

import io.inflow.gpu.tensor.Tensor;

/**
 * The {@code QUANTIZED} kernel family: the integer-only transformer ops of I-ViT on backend tensors. Every backend
 * computes the same integers, defined element by element in {@link IntegerOps} (tested bit for bit across backends).
 * Activations are INT8 (GEMM inputs), UINT8 (Shiftmax probabilities, inside attention) or INT32 (accumulators, the
 * residual stream at 2^-12, scores and GELU inputs at 2^-10). Parameters are heap records ({@link Int8Linear},
 * {@link IntLayerNorm}, {@link Int8Embedding}); a device backend uploads them once and caches them.
 *
 * <pre>{@code
 * QuantizedOps q = backend.quantized();
 * q.embed(ids, words, positions, types, x);                 // INT32 [b, s, d] at 2^-12
 * q.layerNorm(x, null, embNorm, xq, x);                      // INT8 for the GEMM, INT32 residual
 * q.linear(xq, qkvWeights, qkvRequant, qkv);                 // INT8 [t, 3d]
 * q.attention(qkv, lengths, b, s, heads, scoreDyadic, ctxRequant, ctx);
 * q.quantize(patches, inputScale, patchesQ);                // FLOAT32 image patches to INT8 (the ViT's input)
 * q.add(x, attnOut, x);                                      // pre-LN residual: INT32 saturating add
 * }</pre>
 */
public interface QuantizedOps {

    /**
     * {@code out[i, c] = r.apply(c, sum_k x[i, k] * w[c, k] + w.bias[c])}: {@code x} INT8 {@code [m, k]}, {@code out}
     * {@code [m, n]} INT8 or INT32 as {@code r.output()} says. Accumulation is exact in 32 bits (k <= 2^17).
     */
    void linear(Tensor x, Int8Linear w, Requant r, Tensor out);

    /**
     * The wide GEMM: {@code x} INT8 {@code [m, 2k]} holds int16 activations as a high plane and a low plane
     * ({@code x[i, j]} and {@code x[i, k + j]}, see {@link Requant.Output#INT16}); {@code out[i, c] = r.apply(c,
     * 256 * (hi . w[c]) + (lo . w[c]) + bias[c])} with 64-bit accumulation. Two INT8 x INT8 GEMMs, exact.
     */
    void linearWide(Tensor x, Int8Linear w, Requant r, Tensor out);

    /**
     * Multi-head self-attention on {@code qkv} INT8 {@code [b * s, 3d]} (query, key, value side by side) with
     * key-padding {@code lengths} INT32 {@code [b]}: scores {@code score.apply(q . k)} at 2^-10, {@link
     * IntegerOps#shiftmax} over the valid keys, then {@code out[i, h*dh + j] = ctx.apply(j', sum_t p[t] v[t, j])}
     * ({@code out} INT8 or INT32 {@code [b * s, d]}). Padding rows are computed like valid ones.
     */
    void attention(Tensor qkv, Tensor lengths, int batch, int seq, int heads, Dyadic score, Requant ctx, Tensor out);

    /**
     * I-LayerNorm over the last dimension of {@code x} INT32 {@code [t, d]} plus {@code residual} (same shape, or
     * null); writes either or both of {@code int8Out} INT8 and {@code residualOut} INT32 (may alias {@code x}).
     */
    void layerNorm(Tensor x, Tensor residual, IntLayerNorm ln, Tensor int8Out, Tensor residualOut);

    /**
     * {@link IntegerOps#shiftGelu} of {@code x} INT32 {@code [t, f]} at 2^-10, requantised by {@code r} (channel =
     * column) into {@code out}: INT8 or INT32 {@code [t, f]}, or for {@link Requant.Output#INT16} INT8 {@code [t, 2f]}
     * (high plane, then low plane, per row).
     */
    void gelu(Tensor x, Requant r, Tensor out);

    /**
     * Word + position (+ type 0) embeddings of INT32 {@code ids [b, s]} onto the residual stream: {@code out} INT32
     * {@code [b, s, d]} at 2^-12. {@code type} may be null.
     */
    void embed(Tensor ids, Int8Embedding word, Int8Embedding position, Int8Embedding type, Tensor out);

    /** The boundary out of the integer path: {@code out = x * 2^-fractionBits}, exact, FLOAT32 of the same shape. */
    void dequantize(Tensor x, int fractionBits, Tensor out);

    /**
     * The boundary into the integer path (image patches, after float preprocessing): FLOAT32 {@code x} to INT8
     * {@code out} of the same element count, {@code out[i] = }{@link #quantizeElement quantizeElement}{@code (x[i],
     * 1f / scale)} with the reciprocal computed once in float32. Every backend reproduces it exactly (two float32
     * roundings, no fused multiply-add, then an integer clamp).
     *
     * @param scale the real value of one int8 step, positive and finite
     */
    void quantize(Tensor x, float scale, Tensor out);

    /**
     * Saturating INT32 addition on the residual stream: {@code out[i] = clampInt32((long) a[i] + b[i])}, all three
     * INT32 with the same element count; {@code out} may alias {@code a} or {@code b}. What a pre-LN block needs
     * ({@code x += attention(LN(x))}), where {@link #layerNorm}'s fused residual would not keep the sum.
     */
    void add(Tensor a, Tensor b, Tensor out);

    /**
     * The element definition of {@link #quantize}: {@code clampInt8(floor(x * inv + 0.5f))}, the product and the sum
     * each rounded to float32 (Java's float arithmetic; a CUDA kernel writes {@code __fadd_rn(__fmul_rn(x, inv),
     * 0.5f)}), the floor taken exactly, saturated to -127..127; NaN gives 0.
     */
    static int quantizeElement(float x, float inv) {
        float v = x * inv + 0.5f;
        if (v != v) {
            return 0;
        }
        return IntegerOps.clampInt8((long) Math.floor(v));
    }

    /** The float32 reciprocal {@link #quantize} multiplies by; fails on a scale that is not positive and finite. */
    static float inverseScale(float scale) {
        if (!(scale > 0) || !Float.isFinite(scale)) {
            throw new IllegalArgumentException("quantize: scale " + scale + " must be positive and finite");
        }
        return 1f / scale;
    }
}
