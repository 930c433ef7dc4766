package io.inflow.gpu.backend;

import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Arrays;

/**
 * Argument checks shared by every backend, so that each kernel fails the same way on bad input with a
 * message that names the operation, the argument and both shapes.
 *
 * <p>{@code ShapeChecks.matrix("linear", "x", x, DType.FLOAT32);}
 */
public final class ShapeChecks {
    private ShapeChecks() {
    }

    /** Requires {@code t} to have {@code dtype}; returns it. */
    public static Tensor dtype(String op, String arg, Tensor t, DType dtype) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + arg + " is null");
        }
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException(op + ": " + arg + " must be " + dtype + " (found " + t + ")");
        }
        return t;
    }

    /** Requires a float32 tensor of rank 2 or more, seen as a matrix {@code [prod(leading), last]}: returns {rows, cols}. */
    public static int[] matrix(String op, String arg, Tensor t) {
        dtype(op, arg, t, DType.FLOAT32);
        if (t.rank() < 2) {
            throw new IllegalArgumentException(op + ": " + arg + " must be a matrix (found " + t + ")");
        }
        int cols = t.dim(-1);
        return new int[] {Math.toIntExact(t.elementCount() / Math.max(cols, 1)), cols};
    }

    /** Requires a float32 tensor of exactly {@code shape}. */
    public static void shape(String op, String arg, Tensor t, int... shape) {
        dtype(op, arg, t, DType.FLOAT32);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(op + ": " + arg + " expected shape " + Arrays.toString(shape)
                    + ", found " + Arrays.toString(t.shape()));
        }
    }

    /** Requires two float32 tensors with the same element count. */
    public static void sameSize(String op, String argA, Tensor a, String argB, Tensor b) {
        dtype(op, argA, a, DType.FLOAT32);
        dtype(op, argB, b, DType.FLOAT32);
        if (a.elementCount() != b.elementCount()) {
            throw new IllegalArgumentException(op + ": " + argA + " " + Arrays.toString(a.shape()) + " and " + argB
                    + " " + Arrays.toString(b.shape()) + " differ in size");
        }
    }

    /** Requires a float32 {@code [b, s, d]} tensor; returns {b, s, d}. */
    public static int[] sequence(String op, String arg, Tensor t) {
        dtype(op, arg, t, DType.FLOAT32);
        if (t.rank() != 3) {
            throw new IllegalArgumentException(op + ": " + arg + " must be [batch, seq, dim] (found " + t + ")");
        }
        return t.shape();
    }

    /** Requires int32 {@code lengths[batch]} with each value in {@code [1, seq]}; returns them. */
    public static int[] lengths(String op, Tensor lengths, int batch, int seq) {
        dtype(op, "lengths", lengths, DType.INT32);
        if (lengths.rank() != 1 || lengths.dim(0) != batch) {
            throw new IllegalArgumentException(op + ": lengths expected shape [" + batch + "], found "
                    + Arrays.toString(lengths.shape()));
        }
        int[] len = lengths.toIntArray();
        for (int b = 0; b < batch; b++) {
            if (len[b] < 1 || len[b] > seq) {
                throw new IllegalArgumentException(op + ": lengths[" + b + "] = " + len[b]
                        + " outside [1, " + seq + "] (sequence length " + seq + ")");
            }
        }
        return len;
    }
}
