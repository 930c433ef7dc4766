package io.inflow.gpu.backend.cpu.reference;

/**
 * Naive matrix multiply, the oracle for the fast SGEMM: three loops, double accumulation.
 *
 * <p>{@code MatmulReference.matmul(a, b, true, c, m, n, k); // c = a · b^T}
 */
public final class MatmulReference {
    private MatmulReference() {
    }

    /** {@code c[m, n] = a[m, k] · b}, b being {@code [n, k]} when {@code transposeB}, else {@code [k, n]}. */
    public static void matmul(float[] a, float[] b, boolean transposeB, float[] c, int m, int n, int k) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    float bv = transposeB ? b[j * k + p] : b[p * n + j];
                    sum += (double) a[i * k + p] * bv;
                }
                c[i * n + j] = (float) sum;
            }
        }
    }
}
