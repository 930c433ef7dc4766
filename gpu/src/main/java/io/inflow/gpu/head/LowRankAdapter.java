package io.inflow.gpu.head;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.tensor.Tensor;

/**
 * Low-rank residual adapter on an embedding: {@code out = e + U (V^T e)} with {@code adapter.up} = U
 * {@code [d, r]} and {@code adapter.down} = V {@code [d, r]}; for a row vector e that is
 * {@code e + (e V) U^T}. Zero U leaves embeddings unchanged.
 *
 * <p>{@code Heads.load(HeadConfig.of(HeadType.LOW_RANK_ADAPTER, path), backend, 384)}
 */
final class LowRankAdapter implements Head {
    private final HeadWeights weights;
    private final Tensor u;
    private final Tensor v;

    LowRankAdapter(HeadWeights weights, int d) {
        this.weights = weights;
        this.v = weights.matrix("adapter.down", d, -1);
        this.u = weights.matrix("adapter.up", d, v.dim(1));
    }

    @Override
    public int inDim() {
        return u.dim(0);
    }

    @Override
    public int outDim() {
        return u.dim(0);
    }

    @Override
    public void apply(Backend backend, Tensor x, Tensor out, Workspace ws) {
        int n = x.dim(0);
        Tensor t = ws.get("head.adapter.t", n, v.dim(1));
        backend.transformer().matmul(x, v, false, t);        // [n, d] · [d, r]
        backend.transformer().matmul(t, u, true, out);       // [n, r] · [d, r]^T
        backend.transformer().add(out, x, out);
    }

    @Override
    public void close() {
        weights.close();
    }
}
