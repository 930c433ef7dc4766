package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.ShapeChecks;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.backend.cpu.CpuChecks;
import io.inflow.gpu.tensor.Tensor;
import java.util.List;

/**
 * The transformer family of the fast CPU backend: multi-threaded, cache-blocked Vector API kernels ({@link Sgemm},
 * {@link FastAttention}, {@link FastLayerNorm}, {@link FastActivations}, {@link FastEmbedding}, {@link FastPooling}).
 * It composes with the reference family instead of inheriting from it: the kernels without a fast version are
 * written out at the end as one-line delegations to {@code reference} and listed in {@link #FALLBACKS}
 * ({@code FastCpuBackend.fallbacks()} reports them; a test pins the list and checks which calls reach the
 * reference).
 *
 * <p>{@link #linear} treats its weight as immutable: it is packed for the SGEMM once and the packing is cached per
 * weight tensor object ({@link PackedWeights}). {@link #matmul} packs every call.
 *
 * <pre>{@code
 * TransformerOps fast = new FastTransformerOps(new ParallelRunner(2), new ReferenceTransformerOps(memory));
 * fast.linear(x, weight, bias, y);
 * }</pre>
 */
public final class FastTransformerOps implements TransformerOps {
    /** The methods of this family that run the reference kernel: no fast version exists (yet). */
    public static final List<String> FALLBACKS = List.of("addBias", "add", "fill", "scaleAdd", "l2Normalize");

    private final ParallelRunner runner;
    private final TransformerOps reference;
    private final PackedWeights packed = new PackedWeights();

    /** Fast kernels on {@code runner}'s threads; {@code reference} runs the {@link #FALLBACKS}. */
    public FastTransformerOps(ParallelRunner runner, TransformerOps reference) {
        this.runner = runner;
        this.reference = reference;
    }

    @Override
    public void matmul(Tensor a, Tensor b, boolean transposeB, Tensor out) {
        int[] mnk = CpuChecks.matmul(a, b, transposeB, out);
        PackedMatrix pb = PackedMatrix.pack(b.address(), mnk[1], mnk[2], transposeB);
        Sgemm.multiply(a.address(), mnk[0], mnk[2], pb, null, out.address(), runner);
    }

    @Override
    public void linear(Tensor x, Tensor weight, Tensor bias, Tensor out) {
        linear("linear", x, weight, bias, Sgemm.Epilogue.NONE, out);
    }

    /** GELU applied to each output tile inside the SGEMM, while it is still in registers. */
    @Override
    public void linearGelu(Tensor x, Tensor weight, Tensor bias, Tensor out) {
        linear("linearGelu", x, weight, bias, Sgemm.Epilogue.GELU, out);
    }

    /** The residual added to each output tile inside the SGEMM, while it is still in cache. */
    @Override
    public void linearResidual(Tensor x, Tensor weight, Tensor bias, Tensor residualOut) {
        linear("linearResidual", x, weight, bias, Sgemm.Epilogue.ADD, residualOut);
    }

    private void linear(String op, Tensor x, Tensor weight, Tensor bias, Sgemm.Epilogue epilogue, Tensor out) {
        int[] mnk = CpuChecks.matmul(x, weight, true, out);
        float[] b = null;
        if (bias != null) {
            ShapeChecks.shape(op, "bias", CpuChecks.host(bias), mnk[1]);
            b = bias.toFloatArray();
        }
        Sgemm.multiply(x.address(), mnk[0], mnk[2], packed.linear(weight, mnk[1], mnk[2]), b, epilogue,
                out.address(), runner);
    }

    @Override
    public void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out) {
        int[] rc = CpuChecks.layerNorm(x, residual, gamma, beta, out);
        FastLayerNorm.layerNorm(x.address(), residual == null ? 0 : residual.address(), gamma.toFloatArray(),
                beta.toFloatArray(), eps, out.address(), rc[0], rc[1], runner);
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        ShapeChecks.sameSize("gelu", "x", CpuChecks.host(x), "out", CpuChecks.host(out));
        FastActivations.gelu(x.address(), out.address(), x.elementCount(), runner);
    }

    @Override
    public void quickGelu(Tensor x, Tensor out) {
        ShapeChecks.sameSize("quickGelu", "x", CpuChecks.host(x), "out", CpuChecks.host(out));
        FastActivations.quickGelu(x.address(), out.address(), x.elementCount(), runner);
    }

    @Override
    public void glu(Tensor x, GluGate gate, Tensor out) {
        int[] rc = CpuChecks.glu(x, out);
        FastActivations.glu(x.address(), out.address(), rc[0], rc[1] / 2, gate, runner);
    }

    @Override
    public void embed(Tensor ids, Tensor tokenTypes, Tensor wordTable, Tensor positionTable, Tensor typeTable,
                      Tensor out) {
        int[] bsd = CpuChecks.embed(ids, tokenTypes, wordTable, positionTable, typeTable, out);
        FastEmbedding.embed(ids.toIntArray(), tokenTypes == null ? null : tokenTypes.toIntArray(), wordTable,
                positionTable, typeTable, out, bsd[0], bsd[1], bsd[2], runner);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor lengths, int heads, Tensor out) {
        int[] bsd = CpuChecks.attention(q, k, v, heads, out);
        int[] len = ShapeChecks.lengths("attention", lengths, bsd[0], bsd[1]);
        FastAttention.attention(q.address(), k.address(), v.address(), len, out.address(), bsd[0], bsd[1], heads,
                bsd[2] / heads, runner);
    }

    /**
     * One SGEMM against the concatenated {@code [3d, d]} weight into {@code qkv} as {@code [b * s, 3d]} rows
     * {@code [q | k | v]}, then attention reading them with a row stride of {@code 3d}.
     */
    @Override
    public void selfAttention(Tensor x, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv,
                              Tensor lengths, int heads, Tensor qkv, Tensor out) {
        int[] bsd = CpuChecks.attention(x, x, x, heads, out);
        int d = bsd[2];
        int t = bsd[0] * bsd[1];
        if (CpuChecks.host(qkv).elementCount() != 3L * t * d) {
            throw new IllegalArgumentException("selfAttention: qkv scratch has " + qkv.elementCount()
                    + " elements, needs 3 x " + t + " x " + d + " = " + 3L * t * d);
        }
        for (Tensor w : new Tensor[] {wq, wk, wv}) {
            ShapeChecks.shape("selfAttention", "weight", CpuChecks.host(w), d, d);
        }
        for (Tensor bias : new Tensor[] {bq, bk, bv}) {
            if (bias != null) {
                ShapeChecks.shape("selfAttention", "bias", CpuChecks.host(bias), d);
            }
        }
        int[] len = ShapeChecks.lengths("selfAttention", lengths, bsd[0], bsd[1]);
        PackedWeights.FusedQkv f = packed.fusedQkv(wq, bq, wk, bk, wv, bv, d);
        Sgemm.multiply(x.address(), t, d, f.weight(), f.bias(), qkv.address(), runner);
        long a = qkv.address();
        FastAttention.attention(a, a + 4L * d, a + 8L * d, 3 * d, len, out.address(), bsd[0], bsd[1], heads,
                d / heads, runner);
    }

    @Override
    public void meanPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = CpuChecks.pool("meanPool", hidden, out);
        int[] len = ShapeChecks.lengths("meanPool", lengths, bsd[0], bsd[1]);
        FastPooling.mean(hidden.address(), len, out.address(), bsd[0], bsd[1], bsd[2], runner);
    }

    @Override
    public void firstTokenPool(Tensor hidden, Tensor out) {
        int[] bsd = CpuChecks.pool("firstTokenPool", hidden, out);
        FastPooling.first(hidden.address(), out.address(), bsd[0], bsd[1], bsd[2]);
    }

    @Override
    public void lastTokenPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = CpuChecks.pool("lastTokenPool", hidden, out);
        int[] len = ShapeChecks.lengths("lastTokenPool", lengths, bsd[0], bsd[1]);
        FastPooling.last(hidden.address(), len, out.address(), bsd[0], bsd[1], bsd[2]);
    }

    // ---- no fast kernel: the reference runs (keep FALLBACKS in step) ----------------------------------------

    @Override
    public void addBias(Tensor x, Tensor bias) {
        reference.addBias(x, bias);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        reference.add(a, b, out);
    }

    @Override
    public void fill(Tensor x, float value) {
        reference.fill(x, value);
    }

    @Override
    public void scaleAdd(Tensor acc, Tensor x, float alpha) {
        reference.scaleAdd(acc, x, alpha);
    }

    @Override
    public void l2Normalize(Tensor x, Tensor out) {
        reference.l2Normalize(x, out);
    }

    /** Drops the packed weights (the backend is closing). */
    public void clear() {
        packed.clear();
    }
}
