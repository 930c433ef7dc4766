package io.inflow.gpu.quant;

import io.inflow.gpu.model.BertConfig;
import java.util.List;

/**
 * A BERT encoder quantized for the integer-only path: int8 embeddings and weights, int32 biases, and the dyadic
 * requantisations calibration chose. Built by {@link BertQuantizer}; run by {@link Int8BertEncoder}.
 *
 * <pre>{@code
 * Int8Bert model = BertQuantizer.quantize(weights, config, calibrationIds, ops, CalibrationOptions.defaults());
 * try (Int8BertEncoder enc = new Int8BertEncoder(backend, model)) { ... }
 * }</pre>
 *
 * @param type        the token-type embedding, null when the model has none (only row 0 is ever used)
 * @param int4        per layer, its INT4 weights when it was quantized at 4 bits, else null
 * @param calibration what calibration saw at each quantization point, in forward order
 * @param layerChange per layer, how much it changes its input on the calibration texts: 1 - the mean cosine
 *                    between a token's hidden state before and after the layer (mixed precision's importance)
 */
public record Int8Bert(BertConfig config, Int8Embedding word, Int8Embedding position, Int8Embedding type,
                       IntLayerNorm embeddingNorm, List<Int8BertLayer> layers, List<Int4BertLayer> int4,
                       List<CalibrationPoint> calibration, double[] layerChange) {

    public Int8Bert {
        layers = List.copyOf(layers);
        int4 = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(int4));   // null entries: INT8 layers
        calibration = List.copyOf(calibration);
        if (layers.size() != config.layers() || int4.size() != config.layers()
                || layerChange.length != config.layers()) {
            throw new IllegalArgumentException(layers.size() + " quantized layers, " + int4.size() + " INT4 entries, "
                    + layerChange.length + " change figures for a " + config.layers() + "-layer config");
        }
    }

    /** Weight bits of layer {@code i}: 4 or 8. */
    public int weightBits(int i) {
        return int4.get(i) == null ? 8 : 4;
    }

    /** Bytes of the transformer layers' weights and biases (INT4 layers at their packed size). */
    public long layerWeightBytes() {
        long n = 0;
        for (int i = 0; i < layers.size(); i++) {
            n += int4.get(i) == null ? layers.get(i).weightBytes() : int4.get(i).weightBytes();
        }
        return n;
    }

    /** Bytes of all integer parameters (embeddings, weights, biases). */
    public long weightBytes() {
        long n = word.table().length + position.table().length + (type == null ? 0 : type.table().length);
        for (int i = 0; i < layers.size(); i++) {
            n += int4.get(i) == null ? layers.get(i).weightBytes() : int4.get(i).weightBytes();
        }
        return n;
    }
}
