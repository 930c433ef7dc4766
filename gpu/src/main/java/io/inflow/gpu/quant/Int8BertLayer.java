package io.inflow.gpu.quant;

/**
 * One post-LayerNorm BERT layer in the integer path, with every requantisation fixed by calibration. Data flow
 * ({@code t} tokens, width {@code d}, feed-forward {@code f}):
 * <pre>
 *   xq INT8 [t,d] --qkv--> INT8 [t,3d] --attention(score, ctx)--> INT8 [t,d] --attentionOut--> INT32 [t,d] at 2^-12
 *   (+ x) --attentionNorm--> midq INT8, mid INT32 --intermediate--> INT32 [t,f] at 2^-10 --gelu--> INT16 as two INT8 planes [t,2f]
 *   --output (wide)--> INT32 at 2^-12 (+ mid) --outputNorm--> next xq INT8, next x INT32
 * </pre>
 *
 * <p>{@code ops.linear(xq, layer.qkv(), layer.qkvOut(), qkv);}
 */
public record Int8BertLayer(Int8Linear qkv, Requant qkvOut, Dyadic score, Requant ctxOut,
                            Int8Linear attentionOut, Requant attentionOutToResidual, IntLayerNorm attentionNorm,
                            Int8Linear intermediate, Requant intermediateToGelu, Requant geluOut,
                            Int8Linear output, Requant outputToResidual, IntLayerNorm outputNorm) {

    /** Bytes of the layer's integer weights and biases. */
    public long weightBytes() {
        return qkv.bytes() + attentionOut.bytes() + intermediate.bytes() + output.bytes();
    }
}
