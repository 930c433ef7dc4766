package io.inflow.gpu.testing;

/**
 * Small vector helpers for tests: cosine, pooling of ORT's hidden states (in double), element-wise
 * comparison with absolute + relative tolerance.
 *
 * <p>{@code double c = Vectors.cosine(a, 0, b, 0, 384);}
 */
public final class Vectors {
    private Vectors() {
    }

    public static double cosine(float[] a, int aOff, float[] b, int bOff, int n) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < n; i++) {
            dot += (double) a[aOff + i] * b[bOff + i];
            na += (double) a[aOff + i] * a[aOff + i];
            nb += (double) b[bOff + i] * b[bOff + i];
        }
        return dot / Math.sqrt(na * nb);
    }

    /** Mask-aware mean over the first lengths[b] positions of hidden [b, s, d]. */
    public static float[] meanPool(float[] hidden, int[] lengths, int seq, int dim) {
        float[] out = new float[lengths.length * dim];
        for (int b = 0; b < lengths.length; b++) {
            for (int c = 0; c < dim; c++) {
                double sum = 0;
                for (int s = 0; s < lengths[b]; s++) {
                    sum += hidden[(b * seq + s) * dim + c];
                }
                out[b * dim + c] = (float) (sum / lengths[b]);
            }
        }
        return out;
    }

    /** The first position of every row of hidden [b, s, d]. */
    public static float[] clsPool(float[] hidden, int batch, int seq, int dim) {
        float[] out = new float[batch * dim];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(hidden, b * seq * dim, out, b * dim, dim);
        }
        return out;
    }

    /** Index of the first element where |a - b| > abs + rel * |b|, or -1. */
    public static int firstMismatch(float[] a, float[] b, double abs, double rel) {
        if (a.length != b.length) {
            return Math.min(a.length, b.length);
        }
        for (int i = 0; i < a.length; i++) {
            if (!(Math.abs(a[i] - b[i]) <= abs + rel * Math.abs(b[i]))) {
                return i;
            }
        }
        return -1;
    }

    public static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
