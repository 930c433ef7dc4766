package io.inflow.gpu.backend;

import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * The fused {@link TransformerOps} methods written as plain compositions of the family's other kernels. A backend
 * without a fused kernel calls these explicitly (so the choice is visible in its source); the reference backend
 * calls them all, since they are the definition.
 *
 * <pre>{@code
 * public void linearResidual(Tensor x, Tensor w, Tensor b, Tensor acc) {
 *     TransformerComposites.linearResidual(this, memory, x, w, b, acc);   // no fused epilogue here
 * }
 * }</pre>
 */
public final class TransformerComposites {

    private TransformerComposites() {
    }

    /** {@link TransformerOps#matmul} (weight transposed), then {@link TransformerOps#addBias} when a bias is given. */
    public static void linear(TransformerOps ops, Tensor x, Tensor weight, Tensor bias, Tensor out) {
        ops.matmul(x, weight, true, out);
        if (bias != null) {
            ops.addBias(out, bias);
        }
    }

    /** {@link TransformerOps#linear}, then {@link TransformerOps#gelu} in place. */
    public static void linearGelu(TransformerOps ops, Tensor x, Tensor weight, Tensor bias, Tensor out) {
        ops.linear(x, weight, bias, out);
        ops.gelu(out, out);
    }

    /** {@link TransformerOps#linear} into a temporary tensor from {@code memory}, then {@link TransformerOps#add}. */
    public static void linearResidual(TransformerOps ops, TensorMemory memory, Tensor x, Tensor weight, Tensor bias,
                                      Tensor residualOut) {
        try (Tensor t = memory.allocate(DType.FLOAT32, residualOut.shape())) {
            ops.linear(x, weight, bias, t);
            ops.add(residualOut, t, residualOut);
        }
    }

    /** Three {@link TransformerOps#linear}s into consecutive thirds of {@code qkv}, then {@link TransformerOps#attention}. */
    public static void selfAttention(TransformerOps ops, Tensor x, Tensor wq, Tensor bq, Tensor wk, Tensor bk,
                                     Tensor wv, Tensor bv, Tensor lengths, int heads, Tensor qkv, Tensor out) {
        Tensor[] qkvThirds = qkvThirds(x, qkv);
        Tensor q = qkvThirds[0];
        Tensor k = qkvThirds[1];
        Tensor v = qkvThirds[2];
        int t = x.dim(0) * x.dim(1);
        int d = x.dim(2);
        Tensor x2 = x.reshape(t, d);
        ops.linear(x2, wq, bq, q.reshape(t, d));
        ops.linear(x2, wk, bk, k.reshape(t, d));
        ops.linear(x2, wv, bv, v.reshape(t, d));
        ops.attention(q, k, v, lengths, heads, out);
    }

    /**
     * The consecutive thirds {q, k, v} of {@code qkv} as {@code [b, s, d]} views for {@code x [b, s, d]}; fails when
     * {@code qkv} does not hold {@code 3 b s d} elements.
     */
    public static Tensor[] qkvThirds(Tensor x, Tensor qkv) {
        int b = x.dim(0);
        int s = x.dim(1);
        int d = x.dim(2);
        long td = (long) b * s * d;
        if (qkv.elementCount() != 3 * td) {
            throw new IllegalArgumentException("selfAttention: qkv scratch has " + qkv.elementCount()
                    + " elements, needs 3 x " + b + " x " + s + " x " + d + " = " + 3 * td);
        }
        return new Tensor[] {qkv.view(0, b, s, d), qkv.view(td, b, s, d), qkv.view(2 * td, b, s, d)};
    }
}
