package io.inflow.gpu.head;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.tensor.Tensor;

/**
 * Feed-forward head with an upscaled intermediate: {@code Linear(in, m*in) -> GELU -> Linear(m*in, out) (+ x)}.
 * Tensors {@code ffn.up.weight [m*in, in]}, {@code ffn.up.bias [m*in]}, {@code ffn.down.weight [out, m*in]},
 * {@code ffn.down.bias [out]} (biases optional).
 *
 * <p>{@code Heads.load(HeadConfig.of(HeadType.FFN, path), backend, 384)}
 */
final class FfnHead implements Head {
    private final HeadWeights weights;
    private final Tensor up;
    private final Tensor upBias;
    private final Tensor down;
    private final Tensor downBias;
    private final boolean residual;

    FfnHead(HeadWeights weights, int in, boolean residual) {
        this.weights = weights;
        this.up = weights.matrix("ffn.up.weight", -1, in);
        this.upBias = weights.optionalBias("ffn.up.bias", up.dim(0));
        this.down = weights.matrix("ffn.down.weight", -1, up.dim(0));
        this.downBias = weights.optionalBias("ffn.down.bias", down.dim(0));
        this.residual = Heads.checkResidual(residual, in, down.dim(0), "ffn");
    }

    @Override
    public int inDim() {
        return up.dim(1);
    }

    @Override
    public int outDim() {
        return down.dim(0);
    }

    @Override
    public void apply(Backend backend, Tensor x, Tensor out, Workspace ws) {
        Tensor h = ws.get("head.ffn.h", x.dim(0), up.dim(0));
        backend.transformer().linear(x, up, upBias, h);
        backend.transformer().gelu(h, h);
        backend.transformer().linear(h, down, downBias, out);
        if (residual) {
            backend.transformer().add(out, x, out);
        }
    }

    @Override
    public void close() {
        weights.close();
    }
}
