package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.tensor.NativeMemory;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised LayerNorm with optional residual add, rows split across threads. Two passes per row (mean,
 * then centred variance) in float32 vectors; the reference does the same in double.
 *
 * <p>{@code FastLayerNorm.layerNorm(x, residualOrZero, gamma, beta, 1e-12f, out, rows, cols, runner);}
 */
public final class FastLayerNorm {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int ROWS_PER_TASK = 16;

    private FastLayerNorm() {
    }

    /** Addresses of {@code [rows, cols]} tensors; {@code residual} is 0 when absent. */
    public static void layerNorm(long x, long residual, float[] gamma, float[] beta, float eps, long out,
                                 int rows, int cols, ParallelRunner runner) {
        int tasks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        runner.parallelFor(tasks, 8L * rows * cols, t -> {
            float[] y = new float[cols];
            float[] res = residual == 0 ? null : new float[cols];
            int r1 = Math.min(rows, (t + 1) * ROWS_PER_TASK);
            for (int r = t * ROWS_PER_TASK; r < r1; r++) {
                long off = 4L * r * cols;
                NativeMemory.copyToArray(x + off, y, 0, cols);
                if (res != null) {
                    NativeMemory.copyToArray(residual + off, res, 0, cols);
                }
                normalizeRow(y, res, gamma, beta, eps, cols);
                NativeMemory.copyFromArray(y, 0, out + off, cols);
            }
        });
    }

    private static void normalizeRow(float[] y, float[] res, float[] gamma, float[] beta, float eps, int cols) {
        int bound = S.loopBound(cols);
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, y, i);
            if (res != null) {
                v = v.add(FloatVector.fromArray(S, res, i));
                v.intoArray(y, i);
            }
            acc = acc.add(v);
        }
        float sum = VectorMath.sum(acc);
        for (; i < cols; i++) {
            if (res != null) {
                y[i] += res[i];
            }
            sum += y[i];
        }
        float mean = sum / cols;
        FloatVector vm = FloatVector.broadcast(S, mean);
        acc = FloatVector.zero(S);
        i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector d = FloatVector.fromArray(S, y, i).sub(vm);
            acc = d.fma(d, acc);
        }
        float var = VectorMath.sum(acc);
        for (; i < cols; i++) {
            var += (y[i] - mean) * (y[i] - mean);
        }
        float inv = (float) (1.0 / Math.sqrt(var / cols + eps));
        i = 0;
        for (; i < bound; i += S.length()) {
            FloatVector g = FloatVector.fromArray(S, gamma, i).mul(inv);
            FloatVector d = FloatVector.fromArray(S, y, i).sub(vm);
            d.fma(g, FloatVector.fromArray(S, beta, i)).intoArray(y, i);
        }
        for (; i < cols; i++) {
            y[i] = (y[i] - mean) * inv * gamma[i] + beta[i];
        }
    }
}
