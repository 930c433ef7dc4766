package io.inflow.gpu.head;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.WeightSource;
import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Loads a head's tensors by name, checking shapes where they are known ({@code -1} = read off the file),
 * and owns them on the backend.
 *
 * <p>{@code Tensor w = weights.matrix("linear.weight", -1, inDim);}
 */
final class HeadWeights implements AutoCloseable {
    private final WeightSource source;
    private final Backend backend;
    private final List<Tensor> owned = new ArrayList<>();

    HeadWeights(WeightSource source, Backend backend) {
        this.source = source;
        this.backend = backend;
    }

    /** A rank-2 tensor; {@code -1} dims are free, others must match. */
    Tensor matrix(String name, int rows, int cols) {
        WeightArray w = source.find(name).orElseThrow(() -> new IllegalArgumentException(
                "head weight " + name + " (expected shape " + describe(rows, cols) + ") is missing from "
                        + source.describe()));
        int[] s = w.shape();
        if (s.length != 2 || (rows >= 0 && s[0] != rows) || (cols >= 0 && s[1] != cols)) {
            throw new IllegalArgumentException("head weight " + name + " in " + source.describe() + ": expected shape "
                    + describe(rows, cols) + ", found " + Arrays.toString(s));
        }
        return upload(w);
    }

    /** An optional bias of length {@code n}: null when absent. */
    Tensor optionalBias(String name, int n) {
        return source.find(name).map(w -> {
            if (w.shape().length != 1 || w.shape()[0] != n) {
                throw new IllegalArgumentException("head weight " + name + " in " + source.describe()
                        + ": expected shape [" + n + "], found " + Arrays.toString(w.shape()));
            }
            return upload(w);
        }).orElse(null);
    }

    private Tensor upload(WeightArray w) {
        Tensor t = backend.upload(w.data(), w.shape());
        owned.add(t);
        return t;
    }

    private static String describe(int rows, int cols) {
        return "[" + (rows < 0 ? "?" : rows) + ", " + (cols < 0 ? "?" : cols) + "]";
    }

    @Override
    public void close() {
        owned.forEach(Tensor::close);
        owned.clear();
    }
}
