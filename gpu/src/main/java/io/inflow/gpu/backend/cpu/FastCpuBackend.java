package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.ShapeChecks;
import io.inflow.gpu.backend.cpu.fast.FastActivations;
import io.inflow.gpu.backend.cpu.fast.FastAttention;
import io.inflow.gpu.backend.cpu.fast.FastImagePreprocess;
import io.inflow.gpu.backend.cpu.fast.FastLayerNorm;
import io.inflow.gpu.backend.cpu.fast.FastPooling;
import io.inflow.gpu.backend.cpu.fast.PackedMatrix;
import io.inflow.gpu.backend.cpu.fast.ParallelRunner;
import io.inflow.gpu.backend.cpu.fast.Sgemm;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.tensor.NativeMemory;
import io.inflow.gpu.tensor.Tensor;
import java.util.Map;
import java.util.WeakHashMap;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The fast CPU backend: multi-threaded, cache-blocked Vector API kernels for the hot paths (SGEMM,
 * attention, LayerNorm, activations, embedding gather, pooling, image preprocessing); everything else is inherited
 * from {@link ReferenceCpuBackend}, which stays the oracle the fast kernels are tested against.
 *
 * <p>{@link #linear} treats its weight as immutable: it is packed for the SGEMM once and the packing is
 * cached per weight tensor object (weights are loaded once per model). {@link #matmul} packs every call.
 *
 * <pre>{@code
 * try (Backend cpu = new FastCpuBackend(null, 2)) {
 *     cpu.linear(x, weight, bias, y);
 * }
 * }</pre>
 */
public class FastCpuBackend extends ReferenceCpuBackend {
    private final ParallelRunner runner;
    private final Map<Tensor, PackedMatrix> packedWeights = new WeakHashMap<>();
    private final Map<Tensor, FusedQkv> fusedQkv = new WeakHashMap<>();

    /** Wq, Wk, Wv concatenated to {@code [3d, d]} and packed once, with their biases; keyed by Wq, checked against Wk and Wv. */
    private record FusedQkv(Tensor wk, Tensor wv, Tensor bq, Tensor bk, Tensor bv, PackedMatrix weight, float[] bias) {
    }

    /** A backend with {@code threads} kernel threads (the caller's thread counts as one). */
    public FastCpuBackend(BufferAllocator parent, int threads) {
        super(parent);
        this.runner = new ParallelRunner(threads);
    }

    @Override
    public String name() {
        return "cpu-fast(" + runner.threads() + " threads)";
    }

    public int threads() {
        return runner.threads();
    }

    @Override
    public void matmul(Tensor a, Tensor b, boolean transposeB, Tensor out) {
        int[] mnk = checkMatmul(a, b, transposeB, out);
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
        int[] mnk = checkMatmul(x, weight, true, out);
        float[] b = null;
        if (bias != null) {
            ShapeChecks.shape(op, "bias", host(bias), mnk[1]);
            b = bias.toFloatArray();
        }
        Sgemm.multiply(x.address(), mnk[0], mnk[2], packed(weight, mnk[1], mnk[2]), b, epilogue, out.address(),
                runner);
    }

    private PackedMatrix packed(Tensor weight, int n, int k) {
        synchronized (packedWeights) {
            PackedMatrix p = packedWeights.get(weight);
            if (p == null || p.n() != n || p.k() != k) {
                p = PackedMatrix.pack(weight.address(), n, k, true);
                packedWeights.put(weight, p);
            }
            return p;
        }
    }

    @Override
    public void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out) {
        int[] rc = checkLayerNorm(x, residual, gamma, beta, out);
        FastLayerNorm.layerNorm(x.address(), residual == null ? 0 : residual.address(), gamma.toFloatArray(),
                beta.toFloatArray(), eps, out.address(), rc[0], rc[1], runner);
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        ShapeChecks.sameSize("gelu", "x", host(x), "out", host(out));
        FastActivations.gelu(x.address(), out.address(), x.elementCount(), runner);
    }

    @Override
    public void quickGelu(Tensor x, Tensor out) {
        ShapeChecks.sameSize("quickGelu", "x", host(x), "out", host(out));
        FastActivations.quickGelu(x.address(), out.address(), x.elementCount(), runner);
    }

    @Override
    public void glu(Tensor x, GluGate gate, Tensor out) {
        int[] rc = checkGlu(x, out);
        FastActivations.glu(x.address(), out.address(), rc[0], rc[1] / 2, gate, runner);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor lengths, int heads, Tensor out) {
        int[] bsd = checkAttention(q, k, v, heads, out);
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
        int[] bsd = checkAttention(x, x, x, heads, out);
        int d = bsd[2];
        int t = bsd[0] * bsd[1];
        if (host(qkv).elementCount() != 3L * t * d) {
            throw new IllegalArgumentException("selfAttention: qkv scratch has " + qkv.elementCount()
                    + " elements, needs 3 x " + t + " x " + d + " = " + 3L * t * d);
        }
        for (Tensor w : new Tensor[] {wq, wk, wv}) {
            ShapeChecks.shape("selfAttention", "weight", host(w), d, d);
        }
        for (Tensor bias : new Tensor[] {bq, bk, bv}) {
            if (bias != null) {
                ShapeChecks.shape("selfAttention", "bias", host(bias), d);
            }
        }
        int[] len = ShapeChecks.lengths("selfAttention", lengths, bsd[0], bsd[1]);
        FusedQkv f = fused(wq, bq, wk, bk, wv, bv, d);
        Sgemm.multiply(x.address(), t, d, f.weight(), f.bias(), qkv.address(), runner);
        long a = qkv.address();
        FastAttention.attention(a, a + 4L * d, a + 8L * d, 3 * d, len, out.address(), bsd[0], bsd[1], heads,
                d / heads, runner);
    }

    private FusedQkv fused(Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv, int d) {
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

    @Override
    public void embed(Tensor ids, Tensor tokenTypes, Tensor wordTable, Tensor positionTable, Tensor typeTable,
                      Tensor out) {
        int[] bsd = checkEmbed(ids, tokenTypes, wordTable, positionTable, typeTable, out);
        int seq = bsd[1];
        int dim = bsd[2];
        int[] id = ids.toIntArray();
        int[] types = tokenTypes == null ? null : tokenTypes.toIntArray();
        int vocab = wordTable.dim(0);
        int typeVocab = typeTable == null ? 0 : typeTable.dim(0);
        runner.parallelFor(bsd[0], b -> {
            float[] row = new float[dim];
            float[] add = new float[dim];
            for (int s = 0; s < seq; s++) {
                int t = b * seq + s;
                if (id[t] < 0 || id[t] >= vocab) {
                    throw new IllegalArgumentException("embed: token id " + id[t] + " at [" + b + ", " + s
                            + "] outside the vocabulary [0, " + vocab + ")");
                }
                NativeMemory.copyToArray(wordTable.address() + 4L * id[t] * dim, row, 0, dim);
                NativeMemory.copyToArray(positionTable.address() + 4L * s * dim, add, 0, dim);
                for (int c = 0; c < dim; c++) {
                    row[c] += add[c];
                }
                if (typeTable != null) {
                    int type = types == null ? 0 : types[t];
                    if (type < 0 || type >= typeVocab) {
                        throw new IllegalArgumentException("embed: token type " + type + " at [" + b + ", " + s
                                + "] outside [0, " + typeVocab + ")");
                    }
                    NativeMemory.copyToArray(typeTable.address() + 4L * type * dim, add, 0, dim);
                    for (int c = 0; c < dim; c++) {
                        row[c] += add[c];
                    }
                }
                NativeMemory.copyFromArray(row, 0, out.address() + 4L * t * dim, dim);
            }
        });
    }

    @Override
    public void meanPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = checkPool("meanPool", hidden, out);
        int[] len = ShapeChecks.lengths("meanPool", lengths, bsd[0], bsd[1]);
        FastPooling.mean(hidden.address(), len, out.address(), bsd[0], bsd[1], bsd[2], runner);
    }

    @Override
    public void firstTokenPool(Tensor hidden, Tensor out) {
        int[] bsd = checkPool("firstTokenPool", hidden, out);
        FastPooling.first(hidden.address(), out.address(), bsd[0], bsd[1], bsd[2]);
    }

    @Override
    public void lastTokenPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = checkPool("lastTokenPool", hidden, out);
        int[] len = ShapeChecks.lengths("lastTokenPool", lengths, bsd[0], bsd[1]);
        FastPooling.last(hidden.address(), len, out.address(), bsd[0], bsd[1], bsd[2]);
    }

    /**
     * {@link FastImagePreprocess}: only what the crop keeps; float32 and the Vector API for BILINEAR / BICUBIC (a
     * few ulps of 255 from the double-precision reference), index maps for identity sizes and NEAREST
     * (bit-identical); images, or blocks of rows of few large images, spread over the kernel threads.
     */
    @Override
    public void preprocessImages(Tensor pixels, Tensor offsets, Tensor widths, Tensor heights, Tensor channels,
                                 ImagePreprocessConfig config, Tensor out) {
        ImageRows rows = checkImages(pixels, offsets, widths, heights, channels, config, out);
        FastImagePreprocess.preprocess(pixels.address(), rows.offsets(), rows.widths(), rows.heights(),
                rows.channels(), config, out.address(), runner);
    }

    @Override
    public void close() {
        runner.close();
        synchronized (packedWeights) {
            packedWeights.clear();
        }
        synchronized (fusedQkv) {
            fusedQkv.clear();
        }
        super.close();
    }
}
