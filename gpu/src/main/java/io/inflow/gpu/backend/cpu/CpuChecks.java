package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.ShapeChecks;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Arrays;

/**
 * The argument checks of the CPU kernels, shared by the reference and the fast family implementations so both fail
 * with the same messages: shapes and dtypes through {@link ShapeChecks}, plus "host memory only" (a CPU kernel cannot
 * read device memory). Each returns the dimensions the kernel needs.
 *
 * <p>{@code int[] mnk = CpuChecks.matmul(a, b, true, out);   // {m, n, k}}
 */
public final class CpuChecks {

    private CpuChecks() {
    }

    /** The per-image values of a decoded-image batch, copied to Java arrays and checked. */
    public record ImageRows(int[] offsets, int[] widths, int[] heights, int[] channels) {
        public int count() {
            return widths.length;
        }
    }

    /** Host tensors only: a CPU kernel cannot read device memory. */
    public static Tensor host(Tensor t) {
        if (t.location() != Tensor.Location.HOST) {
            throw new IllegalArgumentException("CPU backend got a " + t.location() + " tensor: " + t);
        }
        return t;
    }

    /** Returns {m, n, k}. */
    public static int[] matmul(Tensor a, Tensor b, boolean transposeB, Tensor out) {
        int[] am = ShapeChecks.matrix("matmul", "a", host(a));
        ShapeChecks.dtype("matmul", "b", host(b), DType.FLOAT32);
        if (b.rank() != 2) {
            throw new IllegalArgumentException("matmul: b must be rank 2 (found " + b + ")");
        }
        int k = am[1];
        int bk = transposeB ? b.dim(1) : b.dim(0);
        int n = transposeB ? b.dim(0) : b.dim(1);
        if (bk != k) {
            throw new IllegalArgumentException("matmul: a " + Arrays.toString(a.shape()) + " and b "
                    + Arrays.toString(b.shape()) + (transposeB ? " (transposed)" : "")
                    + " disagree on k: " + k + " vs " + bk);
        }
        int[] om = ShapeChecks.matrix("matmul", "out", host(out));
        if (om[0] != am[0] || om[1] != n) {
            throw new IllegalArgumentException("matmul: out expected [" + am[0] + ", " + n + "], found "
                    + Arrays.toString(out.shape()));
        }
        return new int[] {am[0], n, k};
    }

    /** Returns {rows, cols} of {@code x}. */
    public static int[] bias(String op, Tensor x, Tensor bias) {
        int[] rc = ShapeChecks.matrix(op, "x", host(x));
        ShapeChecks.shape(op, "bias", host(bias), rc[1]);
        return rc;
    }

    /** Returns {rows, cols}. */
    public static int[] layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, Tensor out) {
        int[] rc = ShapeChecks.matrix("layerNorm", "x", host(x));
        if (residual != null) {
            ShapeChecks.sameSize("layerNorm", "x", x, "residual", host(residual));
        }
        ShapeChecks.sameSize("layerNorm", "x", x, "out", host(out));
        ShapeChecks.shape("layerNorm", "gamma", host(gamma), rc[1]);
        ShapeChecks.shape("layerNorm", "beta", host(beta), rc[1]);
        return rc;
    }

    /** Returns {rows, 2h} of {@code x}. */
    public static int[] glu(Tensor x, Tensor out) {
        int[] rc = ShapeChecks.matrix("glu", "x", host(x));
        if (rc[1] % 2 != 0) {
            throw new IllegalArgumentException("glu: x last dimension must be even (found " + rc[1] + ")");
        }
        int[] oc = ShapeChecks.matrix("glu", "out", host(out));
        if (oc[0] != rc[0] || oc[1] != rc[1] / 2) {
            throw new IllegalArgumentException("glu: out expected [" + rc[0] + ", " + rc[1] / 2 + "], found "
                    + Arrays.toString(out.shape()));
        }
        return rc;
    }

    /** Returns {batch, seq, dim}. */
    public static int[] embed(Tensor ids, Tensor tokenTypes, Tensor word, Tensor position, Tensor type, Tensor out) {
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
            if (!Arrays.equals(tokenTypes.shape(), ids.shape())) {
                throw new IllegalArgumentException("embed: tokenTypes expected " + Arrays.toString(ids.shape())
                        + ", found " + Arrays.toString(tokenTypes.shape()));
            }
        }
        ShapeChecks.shape("embed", "out", host(out), batch, seq, dim);
        return new int[] {batch, seq, dim};
    }

    /** Returns {batch, seq, dim}. */
    public static int[] attention(Tensor q, Tensor k, Tensor v, int heads, Tensor out) {
        int[] bsd = ShapeChecks.sequence("attention", "q", host(q));
        ShapeChecks.shape("attention", "k", host(k), bsd);
        ShapeChecks.shape("attention", "v", host(v), bsd);
        ShapeChecks.shape("attention", "out", host(out), bsd);
        if (heads < 1 || bsd[2] % heads != 0) {
            throw new IllegalArgumentException("attention: dim " + bsd[2] + " is not divisible by heads " + heads);
        }
        return bsd;
    }

    /** Returns {batch, seq, dim} of {@code hidden}. */
    public static int[] pool(String op, Tensor hidden, Tensor out) {
        int[] bsd = ShapeChecks.sequence(op, "hidden", host(hidden));
        ShapeChecks.shape(op, "out", host(out), bsd[0], bsd[2]);
        return bsd;
    }

    /** Checks a decoded-image batch and copies its per-image values. */
    public static ImageRows images(Tensor pixels, Tensor offsets, Tensor widths, Tensor heights, Tensor channels,
                                   ImagePreprocessConfig config, Tensor out) {
        ShapeChecks.images("preprocessImages", host(pixels), host(offsets), host(widths), host(heights),
                host(channels), config, host(out));
        ImageRows rows = new ImageRows(offsets.toIntArray(), widths.toIntArray(), heights.toIntArray(),
                channels.toIntArray());
        ShapeChecks.imageRows("preprocessImages", rows.offsets(), rows.widths(), rows.heights(), rows.channels(),
                pixels.elementCount());
        return rows;
    }

    /** Returns {batch, channels, side}. */
    public static int[] patchify(Tensor pixels, int patch, Tensor out) {
        int[] bcs = ShapeChecks.patchify("patchify", host(pixels), patch, host(out));
        if (pixels.address() == out.address() && out.elementCount() > 0) {
            throw new IllegalArgumentException("patchify: out must not alias pixels");
        }
        return bcs;
    }
}
