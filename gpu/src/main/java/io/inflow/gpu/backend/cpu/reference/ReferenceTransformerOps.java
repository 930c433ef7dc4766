package io.inflow.gpu.backend.cpu.reference;

import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.ShapeChecks;
import io.inflow.gpu.backend.TensorMemory;
import io.inflow.gpu.backend.TransformerComposites;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.backend.cpu.CpuChecks;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Arrays;

/**
 * The transformer family of the reference CPU backend, the oracle: every kernel copies its inputs to Java arrays,
 * runs the plain single-threaded code of this package ({@link MatmulReference}, {@link LayerNormReference}, ...)
 * and copies the result back. The fused methods are the plain compositions ({@link TransformerComposites}).
 *
 * <pre>{@code
 * TransformerOps ref = new ReferenceTransformerOps(new CpuMemory(null));
 * ref.gelu(x, y);
 * }</pre>
 */
public final class ReferenceTransformerOps implements TransformerOps {
    private final TensorMemory memory;

    /** Kernels whose temporaries (in {@link #linearResidual}) come from {@code memory}. */
    public ReferenceTransformerOps(TensorMemory memory) {
        this.memory = memory;
    }

    @Override
    public void matmul(Tensor a, Tensor b, boolean transposeB, Tensor out) {
        int[] mnk = CpuChecks.matmul(a, b, transposeB, out);
        float[] c = new float[Math.toIntExact(out.elementCount())];
        MatmulReference.matmul(a.toFloatArray(), b.toFloatArray(), transposeB, c, mnk[0], mnk[1], mnk[2]);
        out.copyFrom(c);
    }

    @Override
    public void addBias(Tensor x, Tensor bias) {
        int[] rc = CpuChecks.bias("addBias", x, bias);
        float[] xs = x.toFloatArray();
        ElementwiseReference.addBias(xs, bias.toFloatArray(), rc[0], rc[1]);
        x.copyFrom(xs);
    }

    @Override
    public void linear(Tensor x, Tensor weight, Tensor bias, Tensor out) {
        TransformerComposites.linear(this, x, weight, bias, out);
    }

    @Override
    public void linearGelu(Tensor x, Tensor weight, Tensor bias, Tensor out) {
        TransformerComposites.linearGelu(this, x, weight, bias, out);
    }

    @Override
    public void linearResidual(Tensor x, Tensor weight, Tensor bias, Tensor residualOut) {
        TransformerComposites.linearResidual(this, memory, x, weight, bias, residualOut);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        ShapeChecks.sameSize("add", "a", a, "b", b);
        ShapeChecks.sameSize("add", "a", a, "out", out);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        ElementwiseReference.add(a.toFloatArray(), b.toFloatArray(), o);
        out.copyFrom(o);
    }

    @Override
    public void fill(Tensor x, float value) {
        ShapeChecks.dtype("fill", "x", CpuChecks.host(x), DType.FLOAT32);
        float[] v = new float[Math.toIntExact(x.elementCount())];
        Arrays.fill(v, value);
        x.copyFrom(v);
    }

    @Override
    public void scaleAdd(Tensor acc, Tensor x, float alpha) {
        ShapeChecks.sameSize("scaleAdd", "acc", acc, "x", x);
        float[] a = acc.toFloatArray();
        ElementwiseReference.scaleAdd(a, x.toFloatArray(), alpha);
        acc.copyFrom(a);
    }

    @Override
    public void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out) {
        int[] rc = CpuChecks.layerNorm(x, residual, gamma, beta, out);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        LayerNormReference.layerNorm(x.toFloatArray(), residual == null ? null : residual.toFloatArray(),
                gamma.toFloatArray(), beta.toFloatArray(), eps, o, rc[0], rc[1]);
        out.copyFrom(o);
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        ShapeChecks.sameSize("gelu", "x", x, "out", out);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        ActivationsReference.gelu(x.toFloatArray(), o);
        out.copyFrom(o);
    }

    @Override
    public void quickGelu(Tensor x, Tensor out) {
        ShapeChecks.sameSize("quickGelu", "x", x, "out", out);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        ActivationsReference.quickGelu(x.toFloatArray(), o);
        out.copyFrom(o);
    }

    @Override
    public void glu(Tensor x, GluGate gate, Tensor out) {
        int[] rc = CpuChecks.glu(x, out);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        ActivationsReference.glu(x.toFloatArray(), gate, o, rc[0], rc[1] / 2);
        out.copyFrom(o);
    }

    @Override
    public void l2Normalize(Tensor x, Tensor out) {
        int[] rc = ShapeChecks.matrix("l2Normalize", "x", x);
        ShapeChecks.sameSize("l2Normalize", "x", x, "out", out);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        ElementwiseReference.l2Normalize(x.toFloatArray(), o, rc[0], rc[1]);
        out.copyFrom(o);
    }

    @Override
    public void embed(Tensor ids, Tensor tokenTypes, Tensor wordTable, Tensor positionTable, Tensor typeTable,
                      Tensor out) {
        int[] bsd = CpuChecks.embed(ids, tokenTypes, wordTable, positionTable, typeTable, out);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        EmbeddingReference.embed(ids.toIntArray(), tokenTypes == null ? null : tokenTypes.toIntArray(),
                wordTable, positionTable, typeTable, o, bsd[0], bsd[1], bsd[2]);
        out.copyFrom(o);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor lengths, int heads, Tensor out) {
        int[] bsd = CpuChecks.attention(q, k, v, heads, out);
        int[] len = ShapeChecks.lengths("attention", lengths, bsd[0], bsd[1]);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        AttentionReference.attention(q.toFloatArray(), k.toFloatArray(), v.toFloatArray(), len, o,
                bsd[0], bsd[1], heads, bsd[2] / heads);
        out.copyFrom(o);
    }

    @Override
    public void selfAttention(Tensor x, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv,
                              Tensor lengths, int heads, Tensor qkv, Tensor out) {
        TransformerComposites.selfAttention(this, x, wq, bq, wk, bk, wv, bv, lengths, heads, qkv, out);
    }

    @Override
    public void meanPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = CpuChecks.pool("meanPool", hidden, out);
        int[] len = ShapeChecks.lengths("meanPool", lengths, bsd[0], bsd[1]);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        PoolingReference.mean(hidden.toFloatArray(), len, o, bsd[0], bsd[1], bsd[2]);
        out.copyFrom(o);
    }

    @Override
    public void firstTokenPool(Tensor hidden, Tensor out) {
        int[] bsd = CpuChecks.pool("firstTokenPool", hidden, out);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        PoolingReference.first(hidden.toFloatArray(), o, bsd[0], bsd[1], bsd[2]);
        out.copyFrom(o);
    }

    @Override
    public void lastTokenPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = CpuChecks.pool("lastTokenPool", hidden, out);
        int[] len = ShapeChecks.lengths("lastTokenPool", lengths, bsd[0], bsd[1]);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        PoolingReference.last(hidden.toFloatArray(), len, o, bsd[0], bsd[1], bsd[2]);
        out.copyFrom(o);
    }
}
