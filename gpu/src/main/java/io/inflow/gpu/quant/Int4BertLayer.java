package io.inflow.gpu.quant;

/**
 * The INT4 weights of one BERT layer quantized at 4 bits ({@link Int4Linear}, group-wise), kept beside the
 * {@link Int8BertLayer} that runs their exact INT8 expansion: the file stores these (half the bytes), kernels may
 * read them packed.
 *
 * <p>{@code Int4BertLayer w4 = model.int4().get(i);   // null when layer i is INT8}
 */
public record Int4BertLayer(Int4Linear qkv, Int4Linear attentionOut, Int4Linear intermediate, Int4Linear output) {

    public long weightBytes() {
        return qkv.bytes() + attentionOut.bytes() + intermediate.bytes() + output.bytes();
    }
}
