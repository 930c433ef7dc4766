package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.ShapeChecks;
import io.inflow.gpu.backend.cpu.reference.ActivationsReference;
import io.inflow.gpu.backend.cpu.reference.AttentionReference;
import io.inflow.gpu.backend.cpu.reference.ElementwiseReference;
import io.inflow.gpu.backend.cpu.reference.EmbeddingReference;
import io.inflow.gpu.backend.cpu.reference.ImageReference;
import io.inflow.gpu.backend.cpu.reference.LayerNormReference;
import io.inflow.gpu.backend.cpu.reference.MatmulReference;
import io.inflow.gpu.backend.cpu.reference.PoolingReference;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.NativeMemory;
import io.inflow.gpu.tensor.Tensor;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The CPU reference backend: every kernel copies its inputs to Java arrays, runs the plain single-threaded
 * code in {@code backend.cpu.reference} and copies the result back. Slow and obviously right: the oracle
 * for {@link FastCpuBackend} and, later, the CUDA backend. Argument checking lives here and is inherited
 * by the fast backend.
 *
 * <pre>{@code
 * try (Backend ref = new ReferenceCpuBackend(null)) {
 *     Tensor y = ref.allocate(DType.FLOAT32, 2, 4);
 *     ref.gelu(x, y);
 *     y.close();
 * }
 * }</pre>
 */
public class ReferenceCpuBackend implements Backend {
    protected final CpuMemory memory;

    /** A backend whose tensors come from a child of {@code parent} (or an own root allocator if null). */
    public ReferenceCpuBackend(BufferAllocator parent) {
        this.memory = new CpuMemory(parent);
    }

    @Override
    public BackendKind kind() {
        return BackendKind.CPU;
    }

    @Override
    public String name() {
        return "cpu-reference";
    }

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        return memory.allocate(dtype, shape);
    }

    @Override
    public Tensor upload(float[] data, int... shape) {
        Tensor t = allocate(DType.FLOAT32, shape);
        t.copyFrom(data);
        return t;
    }

    @Override
    public Tensor upload(int[] data, int... shape) {
        Tensor t = allocate(DType.INT32, shape);
        t.copyFrom(data);
        return t;
    }

    @Override
    public float[] download(Tensor t) {
        return host(t).toFloatArray();
    }

    @Override
    public void matmul(Tensor a, Tensor b, boolean transposeB, Tensor out) {
        int[] mk = checkMatmul(a, b, transposeB, out);
        float[] c = new float[Math.toIntExact(out.elementCount())];
        MatmulReference.matmul(a.toFloatArray(), b.toFloatArray(), transposeB, c, mk[0], mk[1], mk[2]);
        out.copyFrom(c);
    }

    @Override
    public void addBias(Tensor x, Tensor bias) {
        int[] rc = checkBias("addBias", x, bias);
        float[] xs = x.toFloatArray();
        ElementwiseReference.addBias(xs, bias.toFloatArray(), rc[0], rc[1]);
        x.copyFrom(xs);
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
        ShapeChecks.dtype("fill", "x", host(x), DType.FLOAT32);
        float[] v = new float[Math.toIntExact(x.elementCount())];
        java.util.Arrays.fill(v, value);
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
        int[] rc = checkLayerNorm(x, residual, gamma, beta, out);
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
        int[] rc = checkGlu(x, out);
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
        int[] bsd = checkEmbed(ids, tokenTypes, wordTable, positionTable, typeTable, out);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        EmbeddingReference.embed(ids.toIntArray(), tokenTypes == null ? null : tokenTypes.toIntArray(),
                wordTable, positionTable, typeTable, o, bsd[0], bsd[1], bsd[2]);
        out.copyFrom(o);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor lengths, int heads, Tensor out) {
        int[] bsd = checkAttention(q, k, v, heads, out);
        int[] len = ShapeChecks.lengths("attention", lengths, bsd[0], bsd[1]);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        AttentionReference.attention(q.toFloatArray(), k.toFloatArray(), v.toFloatArray(), len, o,
                bsd[0], bsd[1], heads, bsd[2] / heads);
        out.copyFrom(o);
    }

    @Override
    public void meanPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = checkPool("meanPool", hidden, out);
        int[] len = ShapeChecks.lengths("meanPool", lengths, bsd[0], bsd[1]);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        PoolingReference.mean(hidden.toFloatArray(), len, o, bsd[0], bsd[1], bsd[2]);
        out.copyFrom(o);
    }

    @Override
    public void firstTokenPool(Tensor hidden, Tensor out) {
        int[] bsd = checkPool("firstTokenPool", hidden, out);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        PoolingReference.first(hidden.toFloatArray(), o, bsd[0], bsd[1], bsd[2]);
        out.copyFrom(o);
    }

    @Override
    public void lastTokenPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = checkPool("lastTokenPool", hidden, out);
        int[] len = ShapeChecks.lengths("lastTokenPool", lengths, bsd[0], bsd[1]);
        float[] o = new float[Math.toIntExact(out.elementCount())];
        PoolingReference.last(hidden.toFloatArray(), len, o, bsd[0], bsd[1], bsd[2]);
        out.copyFrom(o);
    }

    /** One image after the other through {@link ImagePreprocessor#preprocess} (the oracle, exact by definition). */
    @Override
    public void preprocessImages(Tensor pixels, Tensor offsets, Tensor widths, Tensor heights, Tensor channels,
                                 ImagePreprocessConfig config, Tensor out) {
        ImageRows rows = checkImages(pixels, offsets, widths, heights, channels, config, out);
        ImagePreprocessor pre = new ImagePreprocessor(config);
        for (int i = 0; i < rows.count(); i++) {
            preprocessRow(pre, pixels, rows, i, out);
        }
    }

    @Override
    public void patchify(Tensor pixels, int patch, Tensor out) {
        int[] bcs = checkPatchify(pixels, patch, out);
        out.copyFrom(ImageReference.patchify(pixels.toFloatArray(), bcs[0], bcs[1], bcs[2], patch));
    }

    @Override
    public void close() {
        memory.close();
    }

    // ---- image helpers shared with the fast backend -----------------------------------------------------

    /** The per-image values of a decoded-image batch, copied to Java arrays and checked. */
    protected record ImageRows(int[] offsets, int[] widths, int[] heights, int[] channels) {
        int count() {
            return widths.length;
        }
    }

    protected static ImageRows checkImages(Tensor pixels, Tensor offsets, Tensor widths, Tensor heights,
                                           Tensor channels, ImagePreprocessConfig config, Tensor out) {
        ShapeChecks.images("preprocessImages", host(pixels), host(offsets), host(widths), host(heights),
                host(channels), config, host(out));
        ImageRows rows = new ImageRows(offsets.toIntArray(), widths.toIntArray(), heights.toIntArray(),
                channels.toIntArray());
        ShapeChecks.imageRows("preprocessImages", rows.offsets(), rows.widths(), rows.heights(), rows.channels(),
                pixels.elementCount());
        return rows;
    }

    /** Preprocesses image {@code i} into {@code out[i]}. */
    protected static void preprocessRow(ImagePreprocessor pre, Tensor pixels, ImageRows rows, int i, Tensor out) {
        float[] image = ImageReference.preprocess(pre, pixels.address(), rows.offsets(), rows.widths(),
                rows.heights(), rows.channels(), i);
        NativeMemory.copyFromArray(image, 0, out.address() + 4L * i * image.length, image.length);
    }

    protected static int[] checkPatchify(Tensor pixels, int patch, Tensor out) {
        int[] bcs = ShapeChecks.patchify("patchify", host(pixels), patch, host(out));
        if (pixels.address() == out.address() && out.elementCount() > 0) {
            throw new IllegalArgumentException("patchify: out must not alias pixels");
        }
        return bcs;
    }

    // ---- argument checks shared with the fast backend ---------------------------------------------------

    /** Host tensors only: a CPU kernel cannot read device memory. */
    protected static Tensor host(Tensor t) {
        if (t.location() != Tensor.Location.HOST) {
            throw new IllegalArgumentException("CPU backend got a " + t.location() + " tensor: " + t);
        }
        return t;
    }

    /** Returns {m, n, k}. */
    protected static int[] checkMatmul(Tensor a, Tensor b, boolean transposeB, Tensor out) {
        int[] am = ShapeChecks.matrix("matmul", "a", host(a));
        ShapeChecks.dtype("matmul", "b", host(b), DType.FLOAT32);
        if (b.rank() != 2) {
            throw new IllegalArgumentException("matmul: b must be rank 2 (found " + b + ")");
        }
        int k = am[1];
        int bk = transposeB ? b.dim(1) : b.dim(0);
        int n = transposeB ? b.dim(0) : b.dim(1);
        if (bk != k) {
            throw new IllegalArgumentException("matmul: a " + java.util.Arrays.toString(a.shape()) + " and b "
                    + java.util.Arrays.toString(b.shape()) + (transposeB ? " (transposed)" : "")
                    + " disagree on k: " + k + " vs " + bk);
        }
        int[] om = ShapeChecks.matrix("matmul", "out", host(out));
        if (om[0] != am[0] || om[1] != n) {
            throw new IllegalArgumentException("matmul: out expected [" + am[0] + ", " + n + "], found "
                    + java.util.Arrays.toString(out.shape()));
        }
        return new int[] {am[0], n, k};
    }

    protected static int[] checkBias(String op, Tensor x, Tensor bias) {
        int[] rc = ShapeChecks.matrix(op, "x", host(x));
        ShapeChecks.shape(op, "bias", host(bias), rc[1]);
        return rc;
    }

    protected static int[] checkLayerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, Tensor out) {
        int[] rc = ShapeChecks.matrix("layerNorm", "x", host(x));
        if (residual != null) {
            ShapeChecks.sameSize("layerNorm", "x", x, "residual", host(residual));
        }
        ShapeChecks.sameSize("layerNorm", "x", x, "out", host(out));
        ShapeChecks.shape("layerNorm", "gamma", host(gamma), rc[1]);
        ShapeChecks.shape("layerNorm", "beta", host(beta), rc[1]);
        return rc;
    }

    protected static int[] checkGlu(Tensor x, Tensor out) {
        int[] rc = ShapeChecks.matrix("glu", "x", host(x));
        if (rc[1] % 2 != 0) {
            throw new IllegalArgumentException("glu: x last dimension must be even (found " + rc[1] + ")");
        }
        int[] oc = ShapeChecks.matrix("glu", "out", host(out));
        if (oc[0] != rc[0] || oc[1] != rc[1] / 2) {
            throw new IllegalArgumentException("glu: out expected [" + rc[0] + ", " + rc[1] / 2 + "], found "
                    + java.util.Arrays.toString(out.shape()));
        }
        return rc;
    }

    protected static int[] checkEmbed(Tensor ids, Tensor tokenTypes, Tensor word, Tensor position, Tensor type,
                                      Tensor out) {
        ShapeChecks.dtype("embed", "ids", host(ids), DType.INT32);
        if (ids.rank() != 2) {
            throw new IllegalArgumentException("embed: ids must be [batch, seq] (found " + ids + ")");
        }
        int batch = ids.dim(0);
        int seq = ids.dim(1);
        int dim = ShapeChecks.matrix("embed", "wordTable", host(word))[1];
        int[] pm = ShapeChecks.matrix("embed", "positionTable", host(position));
        if (pm[1] != dim) {
            throw new IllegalArgumentException("embed: positionTable dim " + pm[1] + " differs from word dim " + dim);
        }
        if (seq > pm[0]) {
            throw new IllegalArgumentException("embed: sequence length " + seq + " exceeds the "
                    + pm[0] + " position embeddings");
        }
        if (type != null && ShapeChecks.matrix("embed", "typeTable", host(type))[1] != dim) {
            throw new IllegalArgumentException("embed: typeTable dim differs from word dim " + dim);
        }
        if (tokenTypes != null) {
            ShapeChecks.dtype("embed", "tokenTypes", host(tokenTypes), DType.INT32);
            if (!java.util.Arrays.equals(tokenTypes.shape(), ids.shape())) {
                throw new IllegalArgumentException("embed: tokenTypes expected " + java.util.Arrays.toString(ids.shape())
                        + ", found " + java.util.Arrays.toString(tokenTypes.shape()));
            }
        }
        ShapeChecks.shape("embed", "out", host(out), batch, seq, dim);
        return new int[] {batch, seq, dim};
    }

    protected static int[] checkAttention(Tensor q, Tensor k, Tensor v, int heads, Tensor out) {
        int[] bsd = ShapeChecks.sequence("attention", "q", host(q));
        ShapeChecks.shape("attention", "k", host(k), bsd);
        ShapeChecks.shape("attention", "v", host(v), bsd);
        ShapeChecks.shape("attention", "out", host(out), bsd);
        if (heads < 1 || bsd[2] % heads != 0) {
            throw new IllegalArgumentException("attention: dim " + bsd[2] + " is not divisible by heads " + heads);
        }
        return bsd;
    }

    protected static int[] checkPool(String op, Tensor hidden, Tensor out) {
        int[] bsd = ShapeChecks.sequence(op, "hidden", host(hidden));
        ShapeChecks.shape(op, "out", host(out), bsd[0], bsd[2]);
        return bsd;
    }
}
