package io.inflow.gpu.head;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.tensor.Tensor;

/**
 * Gated head: {@code [a | b] = Linear(in, 2h)(x)}, {@code g = a * gate(b)} (gate GELU by default: GEGLU;
 * or sigmoid: GLU), {@code out = Linear(h, out)(g) (+ x)}. Tensors {@code glu.in.weight [2h, in]},
 * {@code glu.in.bias [2h]}, {@code glu.out.weight [out, h]}, {@code glu.out.bias [out]} (biases optional).
 *
 * <p>{@code Heads.load(HeadConfig.glu(path, GluGate.GELU), backend, 384)}
 */
final class GluHead implements Head {
    private final HeadWeights weights;
    private final Tensor in;
    private final Tensor inBias;
    private final Tensor outW;
    private final Tensor outBias;
    private final GluGate gate;
    private final boolean residual;

    GluHead(HeadWeights weights, int inDim, GluGate gate, boolean residual) {
        this.weights = weights;
        this.in = weights.matrix("glu.in.weight", -1, inDim);
        if (in.dim(0) % 2 != 0) {
            throw new IllegalArgumentException("head weight glu.in.weight must have an even number of rows (2h), found "
                    + in.dim(0));
        }
        this.inBias = weights.optionalBias("glu.in.bias", in.dim(0));
        this.outW = weights.matrix("glu.out.weight", -1, in.dim(0) / 2);
        this.outBias = weights.optionalBias("glu.out.bias", outW.dim(0));
        this.gate = gate;
        this.residual = Heads.checkResidual(residual, inDim, outW.dim(0), "glu");
    }

    @Override
    public int inDim() {
        return in.dim(1);
    }

    @Override
    public int outDim() {
        return outW.dim(0);
    }

    @Override
    public void apply(Backend backend, Tensor x, Tensor out, Workspace ws) {
        int n = x.dim(0);
        Tensor ab = ws.get("head.glu.ab", n, in.dim(0));
        Tensor g = ws.get("head.glu.g", n, in.dim(0) / 2);
        backend.transformer().linear(x, in, inBias, ab);
        backend.transformer().glu(ab, gate, g);
        backend.transformer().linear(g, outW, outBias, out);
        if (residual) {
            backend.transformer().add(out, x, out);
        }
    }

    @Override
    public void close() {
        weights.close();
    }
}
