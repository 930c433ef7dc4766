package io.inflow.gpu.quant;

/**
 * One pre-LayerNorm ViT block in the integer path, with every requantisation fixed by calibration. Data flow
 * ({@code t = b * tokens} rows, width {@code d}, MLP width {@code f}); the residual stream {@code x} stays INT32 at
 * 2^-12 and is only ever added to:
 * <pre>
 *   x INT32 [t,d] --norm1--> INT8 [t,d] --qkv--> INT8 [t,3d] --attention(score, ctx)--> INT8 [t,d]
 *   --attentionOut--> INT32 [t,d] at 2^-12; x += it (saturating add)
 *   x --norm2--> INT8 [t,d] --fc1--> INT32 [t,f] at 2^-10 --gelu--> INT16 as two INT8 planes [t,2f]
 *   --fc2 (wide)--> INT32 [t,d] at 2^-12; x += it
 * </pre>
 * The int8 outputs of {@code norm1} and {@code norm2} have per-channel scales (SmoothQuant migration into the
 * {@code qkv} and {@code fc1} weights).
 *
 * <pre>{@code
 * ops.layerNorm(x, null, layer.norm1(), hq, null);
 * ops.linear(hq, layer.qkv(), layer.qkvOut(), qkv);
 * }</pre>
 */
public record Int8VitLayer(IntLayerNorm norm1, Int8Linear qkv, Requant qkvOut, Dyadic score, Requant ctxOut,
                           Int8Linear attentionOut, Requant attentionOutToResidual, IntLayerNorm norm2,
                           Int8Linear fc1, Requant fc1ToGelu, Requant geluOut, Int8Linear fc2,
                           Requant fc2ToResidual) {

    /** Bytes of the layer's integer weights and biases. */
    public long weightBytes() {
        return qkv.bytes() + attentionOut.bytes() + fc1.bytes() + fc2.bytes();
    }
}
