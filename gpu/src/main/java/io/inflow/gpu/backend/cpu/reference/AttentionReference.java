package io.inflow.gpu.backend.cpu.reference;

/**
 * Multi-head self-attention with a key-padding mask, written the way the formula reads:
 * for each batch row, head and query position, scores over the valid keys, softmax, weighted sum of
 * values. Query positions at or after the row's length get zeros.
 *
 * <p>{@code AttentionReference.attention(q, k, v, lengths, out, batch, seq, heads, headDim);}
 */
public final class AttentionReference {
    private AttentionReference() {
    }

    /** {@code q, k, v, out}: {@code [batch, seq, heads * headDim]} row-major. */
    public static void attention(float[] q, float[] k, float[] v, int[] lengths, float[] out,
                                 int batch, int seq, int heads, int headDim) {
        int d = heads * headDim;
        double scale = 1.0 / Math.sqrt(headDim);
        double[] scores = new double[seq];
        for (int b = 0; b < batch; b++) {
            int len = lengths[b];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < seq; i++) {
                    int outBase = (b * seq + i) * d + h * headDim;
                    if (i >= len) {
                        for (int c = 0; c < headDim; c++) {
                            out[outBase + c] = 0f;
                        }
                        continue;
                    }
                    int qBase = (b * seq + i) * d + h * headDim;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < len; j++) {
                        int kBase = (b * seq + j) * d + h * headDim;
                        double dot = 0;
                        for (int c = 0; c < headDim; c++) {
                            dot += (double) q[qBase + c] * k[kBase + c];
                        }
                        scores[j] = dot * scale;
                        max = Math.max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < len; j++) {
                        scores[j] = Math.exp(scores[j] - max);
                        sum += scores[j];
                    }
                    for (int c = 0; c < headDim; c++) {
                        double acc = 0;
                        for (int j = 0; j < len; j++) {
                            acc += scores[j] / sum * v[(b * seq + j) * d + h * headDim + c];
                        }
                        out[outBase + c] = (float) acc;
                    }
                }
            }
        }
    }
}
