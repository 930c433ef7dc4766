package io.inflow.gpu.encoder.vit;

import io.inflow.gpu.tensor.Tensor;

/**
 * One pre-LN transformer block: {@code x += out(attn(LN1(x)))}, {@code x += down(act(up(LN2(x))))}. Linear weights
 * are {@code [out, in]}; the tensors belong to {@link VitWeights}.
 */
public record VitLayerWeights(Tensor norm1Gamma, Tensor norm1Beta,
                              Tensor query, Tensor queryBias, Tensor key, Tensor keyBias, Tensor value, Tensor valueBias,
                              Tensor attentionOut, Tensor attentionOutBias,
                              Tensor norm2Gamma, Tensor norm2Beta,
                              Tensor up, Tensor upBias, Tensor down, Tensor downBias) {
}
