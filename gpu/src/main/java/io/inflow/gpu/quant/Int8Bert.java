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
 * @param calibration what calibration saw at each quantization point, in forward order
 */
public record Int8Bert(BertConfig config, Int8Embedding word, Int8Embedding position, Int8Embedding type,
                       IntLayerNorm embeddingNorm, List<Int8BertLayer> layers, List<CalibrationPoint> calibration) {

    public Int8Bert {
        layers = List.copyOf(layers);
        calibration = List.copyOf(calibration);
        if (layers.size() != config.layers()) {
            throw new IllegalArgumentException(layers.size() + " quantized layers for a " + config.layers()
                    + "-layer config");
        }
    }

    /** Bytes of all integer parameters (embeddings, weights, biases). */
    public long weightBytes() {
        long n = word.table().length + position.table().length + (type == null ? 0 : type.table().length);
        for (Int8BertLayer l : layers) {
            n += l.weightBytes();
        }
        return n;
    }
}
