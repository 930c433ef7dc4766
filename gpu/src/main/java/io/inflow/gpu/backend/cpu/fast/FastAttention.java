package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.tensor.NativeMemory;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Multi-head self-attention with a key-padding mask, one task per (batch row, head), Vector API inside.
 * Only the {@code len} valid keys of a row are ever read, so padding costs nothing; padded query rows are
 * written as zeros (same contract as {@link io.inflow.gpu.backend.cpu.reference.AttentionReference}).
 * Keys are transposed into {@code kt[headDim][len]} so that scores for a query are FMAs over key
 * positions (no horizontal sums), and values are accumulated row by row.
 *
 * <p>{@code FastAttention.attention(q, k, v, lengths, out, batch, seq, heads, headDim, runner);}
 */
public final class FastAttention {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();

    private FastAttention() {
    }

    /** Addresses of {@code [batch, seq, heads * headDim]} tensors. */
    public static void attention(long q, long k, long v, int[] lengths, long out, int batch, int seq, int heads,
                                 int headDim, ParallelRunner runner) {
        int d = heads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        runner.parallelFor(batch * heads, task -> {
            int b = task / heads;
            int h = task % heads;
            headAttention(q, k, v, lengths[b], out, b, h, seq, d, headDim, scale);
        });
    }

    private static void headAttention(long q, long k, long v, int len, long out, int b, int h, int seq, int d,
                                      int hd, float scale) {
        int lp = (len + L - 1) / L * L;
        int hdp = (hd + L - 1) / L * L;
        float[] row = new float[hd];
        float[] kt = new float[hd * lp];
        float[] vv = new float[len * hdp];
        for (int j = 0; j < len; j++) {
            long off = 4L * ((long) (b * seq + j) * d + (long) h * hd);
            NativeMemory.copyToArray(k + off, row, 0, hd);
            for (int c = 0; c < hd; c++) {
                kt[c * lp + j] = row[c];
            }
            NativeMemory.copyToArray(v + off, vv, j * hdp, hd);
        }
        float[] scores = new float[lp];
        float[] acc = new float[hdp];
        for (int i = 0; i < len; i++) {
            long off = 4L * ((long) (b * seq + i) * d + (long) h * hd);
            NativeMemory.copyToArray(q + off, row, 0, hd);
            for (int j = 0; j < lp; j += L) {
                FloatVector s = FloatVector.zero(S);
                for (int c = 0; c < hd; c++) {
                    s = FloatVector.fromArray(S, kt, c * lp + j).fma(FloatVector.broadcast(S, row[c] * scale), s);
                }
                s.intoArray(scores, j);
            }
            for (int j = len; j < lp; j++) {
                scores[j] = Float.NEGATIVE_INFINITY;
            }
            FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int j = 0; j < lp; j += L) {
                mx = mx.max(FloatVector.fromArray(S, scores, j));
            }
            float max = mx.reduceLanes(VectorOperators.MAX);
            FloatVector sum = FloatVector.zero(S);
            for (int j = 0; j < lp; j += L) {
                FloatVector e = VectorMath.exp(FloatVector.fromArray(S, scores, j).sub(max));
                e.intoArray(scores, j);
                sum = sum.add(e);
            }
            float inv = 1f / VectorMath.sum(sum);
            java.util.Arrays.fill(acc, 0f);
            for (int j = 0; j < len; j++) {
                float p = scores[j] * inv;
                for (int c = 0; c < hdp; c += L) {
                    FloatVector.fromArray(S, vv, j * hdp + c).fma(FloatVector.broadcast(S, p), FloatVector.fromArray(S, acc, c)).intoArray(acc, c);
                }
            }
            NativeMemory.copyFromArray(acc, 0, out + off, hd);
        }
        for (int i = len; i < seq; i++) {
            NativeMemory.zero(out + 4L * ((long) (b * seq + i) * d + (long) h * hd), 4L * hd);
        }
    }
}
