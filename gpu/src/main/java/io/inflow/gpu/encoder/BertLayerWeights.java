package io.inflow.gpu.encoder;

import io.inflow.gpu.tensor.Tensor;
import java.util.List;

/**
 * One transformer layer's parameters on a backend. Linear weights are {@code [out, in]}.
 *
 * <p>{@code backend.transformer().linear(x, layer.query(), layer.queryBias(), q);}
 */
public record BertLayerWeights(Tensor query, Tensor queryBias, Tensor key, Tensor keyBias, Tensor value,
                               Tensor valueBias, Tensor attentionOut, Tensor attentionOutBias,
                               Tensor attentionNormGamma, Tensor attentionNormBeta, Tensor intermediate,
                               Tensor intermediateBias, Tensor output, Tensor outputBias, Tensor outputNormGamma,
                               Tensor outputNormBeta) {

    List<Tensor> all() {
        return List.of(query, queryBias, key, keyBias, value, valueBias, attentionOut, attentionOutBias,
                attentionNormGamma, attentionNormBeta, intermediate, intermediateBias, output, outputBias,
                outputNormGamma, outputNormBeta);
    }
}
