package io.inflow.gpu.backend.cpu.reference;

/**
 * Element-wise and row-wise reference kernels: bias add, add, scale-add, L2 normalisation.
 *
 * <p>{@code ElementwiseReference.addBias(x, bias, rows, cols);}
 */
public final class ElementwiseReference {
    private ElementwiseReference() {
    }

    /** {@code x[r, c] += bias[c]}. */
    public static void addBias(float[] x, float[] bias, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                x[r * cols + c] += bias[c];
            }
        }
    }

    /** {@code out = a + b}. */
    public static void add(float[] a, float[] b, float[] out) {
        for (int i = 0; i < out.length; i++) {
            out[i] = a[i] + b[i];
        }
    }

    /** {@code acc += alpha * x}. */
    public static void scaleAdd(float[] acc, float[] x, float alpha) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += alpha * x[i];
        }
    }

    /** Each row divided by its L2 norm; a zero row stays zero. */
    public static void l2Normalize(float[] x, float[] out, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double sumSq = 0;
            for (int c = 0; c < cols; c++) {
                sumSq += (double) x[r * cols + c] * x[r * cols + c];
            }
            double norm = Math.sqrt(sumSq);
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = norm == 0 ? 0f : (float) (x[r * cols + c] / norm);
            }
        }
    }
}
