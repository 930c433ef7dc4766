package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.tensor.NativeMemory;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised, multi-threaded GELU, quick GELU and GLU over off-heap rows: each task copies a stripe of
 * elements into a per-thread array, transforms it with the Vector API and copies it back.
 *
 * <p>{@code FastActivations.gelu(x.address(), out.address(), x.elementCount(), runner);}
 */
public final class FastActivations {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int STRIPE = 16 * 1024;
    private static final ThreadLocal<float[]> BUF = ThreadLocal.withInitial(() -> new float[STRIPE]);

    private FastActivations() {
    }

    public static void gelu(long in, long out, long count, ParallelRunner runner) {
        apply(in, out, count, runner, false);
    }

    public static void quickGelu(long in, long out, long count, ParallelRunner runner) {
        apply(in, out, count, runner, true);
    }

    private static void apply(long in, long out, long count, ParallelRunner runner, boolean quick) {
        int stripes = Math.toIntExact((count + STRIPE - 1) / STRIPE);
        runner.parallelFor(stripes, 30L * count, s -> {
            long start = (long) s * STRIPE;
            int n = (int) Math.min(STRIPE, count - start);
            float[] buf = BUF.get();
            NativeMemory.copyToArray(in + 4 * start, buf, 0, n);
            if (!quick) {
                gelu(buf, 0, n);
                NativeMemory.copyFromArray(buf, 0, out + 4 * start, n);
                return;
            }
            int i = 0;
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                FloatVector x = FloatVector.fromArray(S, buf, i);
                FloatVector y = quick ? x.mul(VectorMath.sigmoid(x.mul(1.702f))) : VectorMath.gelu(x);
                y.intoArray(buf, i);
            }
            for (; i < n; i++) {
                buf[i] = quick ? buf[i] * VectorMath.sigmoid(1.702f * buf[i]) : VectorMath.gelu(buf[i]);
            }
            NativeMemory.copyFromArray(buf, 0, out + 4 * start, n);
        });
    }

    /** GELU in place on {@code buf[off, off + n)} (also the SGEMM's fused epilogue). */
    static void gelu(float[] buf, int off, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            VectorMath.gelu(FloatVector.fromArray(S, buf, off + i)).intoArray(buf, off + i);
        }
        for (; i < n; i++) {
            buf[off + i] = VectorMath.gelu(buf[off + i]);
        }
    }

    /** Rows of {@code in[rows, 2h]} = {@code [a | b]}; {@code out[rows, h] = a * gate(b)}. */
    public static void glu(long in, long out, int rows, int h, GluGate gate, ParallelRunner runner) {
        runner.parallelFor(rows, 30L * rows * h, r -> {
            float[] x = new float[2 * h];
            NativeMemory.copyToArray(in + 8L * r * h, x, 0, 2 * h);
            float[] y = new float[h];
            int i = 0;
            for (int bound = S.loopBound(h); i < bound; i += S.length()) {
                FloatVector a = FloatVector.fromArray(S, x, i);
                FloatVector b = FloatVector.fromArray(S, x, h + i);
                a.mul(gate == GluGate.GELU ? VectorMath.gelu(b) : VectorMath.sigmoid(b)).intoArray(y, i);
            }
            for (; i < h; i++) {
                y[i] = x[i] * (gate == GluGate.GELU ? VectorMath.gelu(x[h + i]) : VectorMath.sigmoid(x[h + i]));
            }
            NativeMemory.copyFromArray(y, 0, out + 4L * r * h, h);
        });
    }
}
