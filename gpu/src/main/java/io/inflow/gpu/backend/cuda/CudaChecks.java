package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.ShapeChecks;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Arrays;

/**
 * Argument checks of {@link CudaBackend}: the CPU backend's checks and messages (so the contract tests see the same
 * failures on every backend) plus the location check (kernels take DEVICE tensors only). Value checks (token ids,
 * lengths) take the values already copied to the host.
 *
 * <p>{@code int[] mnk = CudaChecks.matmul(a, b, true, out);}
 */
final class CudaChecks {
    private CudaChecks() {
    }

    static Tensor device(String op, String arg, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + arg + " is null");
        }
        if (t.location() != Tensor.Location.DEVICE) {
            throw new IllegalArgumentException(op + ": CUDA backend got a " + t.location() + " tensor for " + arg + ": "
                    + t + " (upload it with backend.upload first)");
        }
        return t;
    }

    static Tensor dtype(String op, String arg, Tensor t, DType dtype) {
        return ShapeChecks.dtype(op, arg, t, dtype);
    }

    /** A device matrix (rank >= 2) of float32 or bfloat16 (the encoder's activations); returns {rows, cols}. */
    static int[] floatMatrix(String op, String arg, Tensor t) {
        floatType(op, arg, device(op, arg, t));
        if (t.rank() < 2) {
            throw new IllegalArgumentException(op + ": " + arg + " must be a matrix (found " + t + ")");
        }
        int cols = t.dim(-1);
        return new int[] {Math.toIntExact(t.elementCount() / Math.max(cols, 1)), cols};
    }

    /** A device {@code [b, s, d]} tensor of float32 or bfloat16; returns {b, s, d}. */
    static int[] floatSequence(String op, String arg, Tensor t) {
        floatType(op, arg, device(op, arg, t));
        if (t.rank() != 3) {
            throw new IllegalArgumentException(op + ": " + arg + " must be [batch, seq, dim] (found " + t + ")");
        }
        return new int[] {t.dim(0), t.dim(1), t.dim(2)};
    }

    /** Same element count, each float32 or bfloat16. */
    static void sameFloatSize(String op, String argA, Tensor a, String argB, Tensor b) {
        floatType(op, argA, device(op, argA, a));
        floatType(op, argB, device(op, argB, b));
        if (a.elementCount() != b.elementCount()) {
            throw new IllegalArgumentException(op + ": " + argA + " " + Arrays.toString(a.shape()) + " and " + argB
                    + " " + Arrays.toString(b.shape()) + " differ in size");
        }
    }

    private static void floatType(String op, String arg, Tensor t) {
        if (t.dtype() != DType.FLOAT32 && t.dtype() != DType.BFLOAT16) {
            throw new IllegalArgumentException(op + ": " + arg + " must be FLOAT32 or BFLOAT16 (found " + t + ")");
        }
    }

    static void length(int length, Tensor t) {
        if (length != t.elementCount()) {
            throw new IllegalArgumentException("array of " + length + " elements for tensor "
                    + Arrays.toString(t.shape()) + " (" + t.elementCount() + " elements)");
        }
    }

    static int[] matrix(String op, String arg, Tensor t) {
        return ShapeChecks.matrix(op, arg, device(op, arg, t));
    }

    static void shape(String op, String arg, Tensor t, int... shape) {
        ShapeChecks.shape(op, arg, device(op, arg, t), shape);
    }

    static void sameSize(String op, String argA, Tensor a, String argB, Tensor b) {
        ShapeChecks.sameSize(op, argA, device(op, argA, a), argB, device(op, argB, b));
    }

    /** Returns {m, n, k}. */
    static int[] matmul(Tensor a, Tensor b, boolean transposeB, Tensor out) {
        int[] am = matrix("matmul", "a", a);
        dtype("matmul", "b", device("matmul", "b", b), DType.FLOAT32);
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
        int[] om = matrix("matmul", "out", out);
        if (om[0] != am[0] || om[1] != n) {
            throw new IllegalArgumentException("matmul: out expected [" + am[0] + ", " + n + "], found "
                    + Arrays.toString(out.shape()));
        }
        if (out.address() == a.address() || out.address() == b.address()) {
            throw new IllegalArgumentException("matmul: out must not alias a or b");
        }
        return new int[] {am[0], n, k};
    }

    static int[] bias(String op, Tensor x, Tensor bias) {
        int[] rc = matrix(op, "x", x);
        shape(op, "bias", bias, rc[1]);
        return rc;
    }

    static int[] layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, Tensor out) {
        int[] rc = matrix("layerNorm", "x", x);
        if (residual != null) {
            sameSize("layerNorm", "x", x, "residual", residual);
        }
        sameSize("layerNorm", "x", x, "out", out);
        shape("layerNorm", "gamma", gamma, rc[1]);
        shape("layerNorm", "beta", beta, rc[1]);
        return rc;
    }

    static int[] glu(Tensor x, Tensor out) {
        int[] rc = matrix("glu", "x", x);
        if (rc[1] % 2 != 0) {
            throw new IllegalArgumentException("glu: x last dimension must be even (found " + rc[1] + ")");
        }
        int[] oc = matrix("glu", "out", out);
        if (oc[0] != rc[0] || oc[1] != rc[1] / 2) {
            throw new IllegalArgumentException("glu: out expected [" + rc[0] + ", " + rc[1] / 2 + "], found "
                    + Arrays.toString(out.shape()));
        }
        return rc;
    }

    static int[] embed(Tensor ids, Tensor tokenTypes, Tensor word, Tensor position, Tensor type, Tensor out) {
        dtype("embed", "ids", device("embed", "ids", ids), DType.INT32);
        if (ids.rank() != 2) {
            throw new IllegalArgumentException("embed: ids must be [batch, seq] (found " + ids + ")");
        }
        int batch = ids.dim(0);
        int seq = ids.dim(1);
        int dim = matrix("embed", "wordTable", word)[1];
        int[] pm = matrix("embed", "positionTable", position);
        if (pm[1] != dim) {
            throw new IllegalArgumentException("embed: positionTable dim " + pm[1] + " differs from word dim " + dim);
        }
        if (seq > pm[0]) {
            throw new IllegalArgumentException("embed: sequence length " + seq + " exceeds the "
                    + pm[0] + " position embeddings");
        }
        if (type != null && matrix("embed", "typeTable", type)[1] != dim) {
            throw new IllegalArgumentException("embed: typeTable dim differs from word dim " + dim);
        }
        if (tokenTypes != null) {
            dtype("embed", "tokenTypes", device("embed", "tokenTypes", tokenTypes), DType.INT32);
            if (!Arrays.equals(tokenTypes.shape(), ids.shape())) {
                throw new IllegalArgumentException("embed: tokenTypes expected " + Arrays.toString(ids.shape())
                        + ", found " + Arrays.toString(tokenTypes.shape()));
            }
        }
        shape("embed", "out", out, batch, seq, dim);
        return new int[] {batch, seq, dim};
    }

    /** The value checks of the embedding gather (the kernel trusts ids and types). */
    static void tokenIds(int[] ids, int[] types, int vocab, int typeVocab, boolean hasTypeTable, int seq) {
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= vocab) {
                throw new IllegalArgumentException("embed: token id " + ids[t] + " at [" + t / seq + ", " + t % seq
                        + "] outside the vocabulary [0, " + vocab + ")");
            }
            int type = types == null ? 0 : types[t];
            if (hasTypeTable && (type < 0 || type >= typeVocab)) {
                throw new IllegalArgumentException("embed: token type " + type + " at [" + t / seq + ", " + t % seq
                        + "] outside [0, " + typeVocab + ")");
            }
        }
    }

    static int[] attention(Tensor q, Tensor k, Tensor v, int heads, Tensor out) {
        int[] bsd = ShapeChecks.sequence("attention", "q", device("attention", "q", q));
        shape("attention", "k", k, bsd);
        shape("attention", "v", v, bsd);
        shape("attention", "out", out, bsd);
        if (heads < 1 || bsd[2] % heads != 0) {
            throw new IllegalArgumentException("attention: dim " + bsd[2] + " is not divisible by heads " + heads);
        }
        long o = out.address();
        if (o == q.address() || o == k.address() || o == v.address()) {
            throw new IllegalArgumentException("attention: out must not alias q, k or v");
        }
        return bsd;
    }

    static int[] pool(String op, Tensor hidden, Tensor out) {
        int[] bsd = ShapeChecks.sequence(op, "hidden", device(op, "hidden", hidden));
        shape(op, "out", out, bsd[0], bsd[2]);
        return bsd;
    }

    static void lengthsShape(String op, Tensor lengths, int batch) {
        dtype(op, "lengths", device(op, "lengths", lengths), DType.INT32);
        if (lengths.rank() != 1 || lengths.dim(0) != batch) {
            throw new IllegalArgumentException(op + ": lengths expected shape [" + batch + "], found "
                    + Arrays.toString(lengths.shape()));
        }
    }

    /** Same message as {@link ShapeChecks#lengths}, on values copied to the host. */
    static void lengths(String op, Tensor lengths, int[] len, int batch, int seq) {
        for (int b = 0; b < batch; b++) {
            if (len[b] < 1 || len[b] > seq) {
                throw new IllegalArgumentException(op + ": lengths[" + b + "] = " + len[b]
                        + " outside [1, " + seq + "] (sequence length " + seq + ")");
            }
        }
    }
}
