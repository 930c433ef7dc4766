package io.inflow.gpu.backend.cpu.reference;

/**
 * Pooling of {@code hidden[batch, seq, dim]} into {@code out[batch, dim]}: mask-aware mean, first token,
 * last non-padding token.
 *
 * <p>{@code PoolingReference.mean(hidden, lengths, out, batch, seq, dim);}
 */
public final class PoolingReference {
    private PoolingReference() {
    }

    public static void mean(float[] hidden, int[] lengths, float[] out, int batch, int seq, int dim) {
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < dim; c++) {
                double sum = 0;
                for (int s = 0; s < lengths[b]; s++) {
                    sum += hidden[(b * seq + s) * dim + c];
                }
                out[b * dim + c] = (float) (sum / lengths[b]);
            }
        }
    }

    public static void first(float[] hidden, float[] out, int batch, int seq, int dim) {
        for (int b = 0; b < batch; b++) {
            System.arraycopy(hidden, b * seq * dim, out, b * dim, dim);
        }
    }

    public static void last(float[] hidden, int[] lengths, float[] out, int batch, int seq, int dim) {
        for (int b = 0; b < batch; b++) {
            System.arraycopy(hidden, (b * seq + lengths[b] - 1) * dim, out, b * dim, dim);
        }
    }
}
