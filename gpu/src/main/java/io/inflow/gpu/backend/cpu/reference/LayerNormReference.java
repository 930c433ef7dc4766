package io.inflow.gpu.backend.cpu.reference;

/**
 * LayerNorm over rows, with an optional residual added first; statistics in double.
 *
 * <p>{@code LayerNormReference.layerNorm(x, residual, gamma, beta, 1e-12f, out, rows, cols);}
 */
public final class LayerNormReference {
    private LayerNormReference() {
    }

    /** {@code y = x + residual} (residual may be null); {@code out = (y - mean) / sqrt(var + eps) * gamma + beta}. */
    public static void layerNorm(float[] x, float[] residual, float[] gamma, float[] beta, float eps,
                                 float[] out, int rows, int cols) {
        double[] y = new double[cols];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int c = 0; c < cols; c++) {
                y[c] = x[r * cols + c] + (residual == null ? 0f : residual[r * cols + c]);
                mean += y[c];
            }
            mean /= cols;
            double var = 0;
            for (int c = 0; c < cols; c++) {
                var += (y[c] - mean) * (y[c] - mean);
            }
            var /= cols;
            double inv = 1.0 / Math.sqrt(var + eps);
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = (float) ((y[c] - mean) * inv * gamma[c] + beta[c]);
            }
        }
    }
}
