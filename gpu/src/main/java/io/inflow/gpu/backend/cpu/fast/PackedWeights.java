package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.tensor.Tensor;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Weights packed for {@link Sgemm} once and cached per weight tensor object (weights are loaded once per model and
 * treated as immutable): single Linear weights, and Wq, Wk, Wv concatenated to {@code [3d, d]} with their biases for
 * the fused QKV projection. Entries go away with their weight tensors (weak keys).
 *
 * <p>{@code PackedMatrix p = packedWeights.linear(weight, n, k);}
 */
final class PackedWeights {
    private final Map<Tensor, PackedMatrix> linear = new WeakHashMap<>();
    private final Map<Tensor, FusedQkv> fusedQkv = new WeakHashMap<>();

    /** Wq, Wk, Wv packed as one {@code [3d, d]} weight with the concatenated bias; keyed by Wq, checked against the rest. */
    record FusedQkv(Tensor wk, Tensor wv, Tensor bq, Tensor bk, Tensor bv, PackedMatrix weight, float[] bias) {
    }

    /** {@code weight [n, k]} packed for {@code x · weight^T}. */
    PackedMatrix linear(Tensor weight, int n, int k) {
        synchronized (linear) {
            PackedMatrix p = linear.get(weight);
            if (p == null || p.n() != n || p.k() != k) {
                p = PackedMatrix.pack(weight.address(), n, k, true);
                linear.put(weight, p);
            }
            return p;
        }
    }

    /** The three projections of self-attention as one packed {@code [3d, d]} weight. */
    FusedQkv fusedQkv(Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv, int d) {
        synchronized (fusedQkv) {
            FusedQkv f = fusedQkv.get(wq);
            if (f == null || f.wk() != wk || f.wv() != wv || f.bq() != bq || f.bk() != bk || f.bv() != bv
                    || f.weight().n() != 3 * d || f.weight().k() != d) {
                float[] w = new float[3 * d * d];
                wq.copyTo(w, 0);
                wk.copyTo(w, d * d);
                wv.copyTo(w, 2 * d * d);
                float[] bias = null;
                if (bq != null || bk != null || bv != null) {
                    bias = new float[3 * d];
                    Tensor[] bs = {bq, bk, bv};
                    for (int i = 0; i < 3; i++) {
                        if (bs[i] != null) {
                            bs[i].copyTo(bias, i * d);
                        }
                    }
                }
                f = new FusedQkv(wk, wv, bq, bk, bv, PackedMatrix.pack(w, 3 * d, d, true), bias);
                fusedQkv.put(wq, f);
            }
            return f;
        }
    }

    void clear() {
        synchronized (linear) {
            linear.clear();
        }
        synchronized (fusedQkv) {
            fusedQkv.clear();
        }
    }
}
