package io.inflow.gpu.head;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.tensor.Tensor;

/**
 * {@code out = x W^T + b (+ x)}; tensors {@code linear.weight [out, in]}, {@code linear.bias [out]} (optional).
 *
 * <p>{@code Heads.load(HeadConfig.of(HeadType.LINEAR, path), backend, 384)}
 */
final class LinearHead implements Head {
    private final HeadWeights weights;
    private final Tensor w;
    private final Tensor b;
    private final boolean residual;

    LinearHead(HeadWeights weights, int in, boolean residual) {
        this.weights = weights;
        this.w = weights.matrix("linear.weight", -1, in);
        this.b = weights.optionalBias("linear.bias", w.dim(0));
        this.residual = Heads.checkResidual(residual, in, w.dim(0), "linear");
    }

    @Override
    public int inDim() {
        return w.dim(1);
    }

    @Override
    public int outDim() {
        return w.dim(0);
    }

    @Override
    public void apply(Backend backend, Tensor x, Tensor out, Workspace ws) {
        backend.transformer().linear(x, w, b, out);
        if (residual) {
            backend.transformer().add(out, x, out);
        }
    }

    @Override
    public void close() {
        weights.close();
    }
}
