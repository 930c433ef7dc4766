package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.tensor.NativeMemory;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Multi-head self-attention with a key-padding mask, one task per (batch row, head), Vector API inside.
 * Only the {@code len} valid keys of a row are read, so padding costs nothing; padded query rows are
 * written as zeros (same contract as {@link io.inflow.gpu.backend.cpu.reference.AttentionReference}).
 * Keys are transposed into {@code kt[headDim][len]} so scores are FMAs over key positions (no horizontal
 * sums). Queries go in blocks of {@value #QB} rows so that each loaded key or value vector feeds
 * {@value #QB} independent accumulators (FMA latency is hidden, registers hold the sums).
 *
 * <p>{@code FastAttention.attention(q, k, v, lengths, out, batch, seq, heads, headDim, runner);}
 */
public final class FastAttention {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private static final int L = S.length();
    /** Query rows per block. */
    static final int QB = 4;

    private FastAttention() {
    }

    /** Addresses of {@code [batch, seq, heads * headDim]} tensors. */
    public static void attention(long q, long k, long v, int[] lengths, long out, int batch, int seq, int heads,
                                 int headDim, ParallelRunner runner) {
        attention(q, k, v, heads * headDim, lengths, out, batch, seq, heads, headDim, runner);
    }

    /**
     * As above, with q, k and v rows {@code inStride} floats apart (e.g. {@code 3 * d} when they are the thirds
     * of one {@code [batch * seq, 3d]} projection); {@code out} rows stay {@code heads * headDim} apart.
     */
    public static void attention(long q, long k, long v, int inStride, int[] lengths, long out, int batch, int seq,
                                 int heads, int headDim, ParallelRunner runner) {
        int d = heads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        long work = 0;
        for (int b = 0; b < batch; b++) {
            work += 4L * lengths[b] * lengths[b] * d;
        }
        runner.parallelFor(batch * heads, work, task -> {
            int b = task / heads;
            int h = task % heads;
            headAttention(q, k, v, inStride, lengths[b], out, b, h, seq, d, headDim, scale);
        });
    }

    private static void headAttention(long q, long k, long v, int ld, int len, long out, int b, int h, int seq,
                                      int d, int hd, float scale) {
        int lp = (len + L - 1) / L * L;
        int hdp = (hd + L - 1) / L * L;
        Scratch s = SCRATCH.get();
        float[] row = s.row(hd);
        float[] kt = s.kt(hd * lp);            // keys transposed, [hd][lp], zero past len
        float[] vv = s.vv(len * hdp);          // values, [len][hdp], zero past hd
        for (int j = 0; j < len; j++) {
            long off = 4L * ((long) (b * seq + j) * ld + (long) h * hd);
            NativeMemory.copyToArray(k + off, row, 0, hd);
            for (int c = 0; c < hd; c++) {
                kt[c * lp + j] = row[c];
            }
            NativeMemory.copyToArray(v + off, vv, j * hdp, hd);
            if (hdp > hd) {
                Arrays.fill(vv, j * hdp + hd, (j + 1) * hdp, 0f);
            }
        }
        if (lp > len) {
            for (int c = 0; c < hd; c++) {
                Arrays.fill(kt, c * lp + len, (c + 1) * lp, 0f);
            }
        }
        float[] qb = s.qb(QB * hd);            // QB query rows, pre-scaled
        float[] p = s.p(QB * lp);              // their probabilities
        float[] o = s.o(QB * hdp);             // their outputs
        for (int i0 = 0; i0 < len; i0 += QB) {
            int rows = Math.min(QB, len - i0);
            Arrays.fill(qb, 0, QB * hd, 0f);
            for (int r = 0; r < rows; r++) {
                long off = 4L * ((long) (b * seq + i0 + r) * ld + (long) h * hd);
                NativeMemory.copyToArray(q + off, qb, r * hd, hd);
            }
            for (int i = 0; i < rows * hd; i++) {
                qb[i] *= scale;
            }
            scores(qb, kt, p, hd, lp);
            for (int r = 0; r < QB; r++) {
                softmax(p, r * lp, len, lp);
            }
            weightedValues(p, vv, o, len, lp, hdp);
            for (int r = 0; r < rows; r++) {
                long off = 4L * ((long) (b * seq + i0 + r) * d + (long) h * hd);
                NativeMemory.copyFromArray(o, r * hdp, out + off, hd);
            }
        }
        for (int i = len; i < seq; i++) {
            NativeMemory.zero(out + 4L * ((long) (b * seq + i) * d + (long) h * hd), 4L * hd);
        }
    }

    /**
     * {@code p[r][j] = sum_c qb[r][c] * kt[c][j]} for the QB rows, two key vectors at a time: 8 independent FMA
     * chains per step hide the FMA latency (4 chains would leave half of the FMA throughput unused).
     */
    private static void scores(float[] qb, float[] kt, float[] p, int hd, int lp) {
        int j = 0;
        for (; j + 2 * L <= lp; j += 2 * L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            FloatVector b0 = FloatVector.zero(S);
            FloatVector b1 = FloatVector.zero(S);
            FloatVector b2 = FloatVector.zero(S);
            FloatVector b3 = FloatVector.zero(S);
            for (int c = 0; c < hd; c++) {
                FloatVector ka = FloatVector.fromArray(S, kt, c * lp + j);
                FloatVector kb = FloatVector.fromArray(S, kt, c * lp + j + L);
                FloatVector q0 = FloatVector.broadcast(S, qb[c]);
                FloatVector q1 = FloatVector.broadcast(S, qb[hd + c]);
                FloatVector q2 = FloatVector.broadcast(S, qb[2 * hd + c]);
                FloatVector q3 = FloatVector.broadcast(S, qb[3 * hd + c]);
                a0 = ka.fma(q0, a0);
                b0 = kb.fma(q0, b0);
                a1 = ka.fma(q1, a1);
                b1 = kb.fma(q1, b1);
                a2 = ka.fma(q2, a2);
                b2 = kb.fma(q2, b2);
                a3 = ka.fma(q3, a3);
                b3 = kb.fma(q3, b3);
            }
            a0.intoArray(p, j);
            b0.intoArray(p, j + L);
            a1.intoArray(p, lp + j);
            b1.intoArray(p, lp + j + L);
            a2.intoArray(p, 2 * lp + j);
            b2.intoArray(p, 2 * lp + j + L);
            a3.intoArray(p, 3 * lp + j);
            b3.intoArray(p, 3 * lp + j + L);
        }
        for (; j < lp; j += L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            for (int c = 0; c < hd; c++) {
                FloatVector kv = FloatVector.fromArray(S, kt, c * lp + j);
                a0 = kv.fma(FloatVector.broadcast(S, qb[c]), a0);
                a1 = kv.fma(FloatVector.broadcast(S, qb[hd + c]), a1);
                a2 = kv.fma(FloatVector.broadcast(S, qb[2 * hd + c]), a2);
                a3 = kv.fma(FloatVector.broadcast(S, qb[3 * hd + c]), a3);
            }
            a0.intoArray(p, j);
            a1.intoArray(p, lp + j);
            a2.intoArray(p, 2 * lp + j);
            a3.intoArray(p, 3 * lp + j);
        }
    }

    /** In-place softmax of {@code p[off, off + len)}; the padded tail up to {@code lp} becomes 0. */
    private static void softmax(float[] p, int off, int len, int lp) {
        for (int j = len; j < lp; j++) {
            p[off + j] = Float.NEGATIVE_INFINITY;
        }
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < lp; j += L) {
            mx = mx.max(FloatVector.fromArray(S, p, off + j));
        }
        float max = mx.reduceLanes(VectorOperators.MAX);   // max is exact in any order
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < lp; j += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(S, p, off + j).sub(max));
            e.intoArray(p, off + j);
            sum = sum.add(e);
        }
        float inv = 1f / VectorMath.sum(sum);
        for (int j = 0; j < lp; j += L) {
            FloatVector.fromArray(S, p, off + j).mul(inv).intoArray(p, off + j);
        }
    }

    /** {@code o[r][:] = sum_j p[r][j] * vv[j][:]} for the QB rows, two value vectors at a time (8 FMA chains). */
    private static void weightedValues(float[] p, float[] vv, float[] o, int len, int lp, int hdp) {
        int c = 0;
        for (; c + 2 * L <= hdp; c += 2 * L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            FloatVector b0 = FloatVector.zero(S);
            FloatVector b1 = FloatVector.zero(S);
            FloatVector b2 = FloatVector.zero(S);
            FloatVector b3 = FloatVector.zero(S);
            for (int j = 0; j < len; j++) {
                FloatVector va = FloatVector.fromArray(S, vv, j * hdp + c);
                FloatVector vb = FloatVector.fromArray(S, vv, j * hdp + c + L);
                FloatVector p0 = FloatVector.broadcast(S, p[j]);
                FloatVector p1 = FloatVector.broadcast(S, p[lp + j]);
                FloatVector p2 = FloatVector.broadcast(S, p[2 * lp + j]);
                FloatVector p3 = FloatVector.broadcast(S, p[3 * lp + j]);
                a0 = va.fma(p0, a0);
                b0 = vb.fma(p0, b0);
                a1 = va.fma(p1, a1);
                b1 = vb.fma(p1, b1);
                a2 = va.fma(p2, a2);
                b2 = vb.fma(p2, b2);
                a3 = va.fma(p3, a3);
                b3 = vb.fma(p3, b3);
            }
            a0.intoArray(o, c);
            b0.intoArray(o, c + L);
            a1.intoArray(o, hdp + c);
            b1.intoArray(o, hdp + c + L);
            a2.intoArray(o, 2 * hdp + c);
            b2.intoArray(o, 2 * hdp + c + L);
            a3.intoArray(o, 3 * hdp + c);
            b3.intoArray(o, 3 * hdp + c + L);
        }
        for (; c < hdp; c += L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            for (int j = 0; j < len; j++) {
                FloatVector val = FloatVector.fromArray(S, vv, j * hdp + c);
                a0 = val.fma(FloatVector.broadcast(S, p[j]), a0);
                a1 = val.fma(FloatVector.broadcast(S, p[lp + j]), a1);
                a2 = val.fma(FloatVector.broadcast(S, p[2 * lp + j]), a2);
                a3 = val.fma(FloatVector.broadcast(S, p[3 * lp + j]), a3);
            }
            a0.intoArray(o, c);
            a1.intoArray(o, hdp + c);
            a2.intoArray(o, 2 * hdp + c);
            a3.intoArray(o, 3 * hdp + c);
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Per-thread working arrays, grown on demand: one (batch row, head) task allocates nothing. */
    private static final class Scratch {
        private float[] row = new float[0];
        private float[] kt = new float[0];
        private float[] vv = new float[0];
        private float[] qb = new float[0];
        private float[] p = new float[0];
        private float[] o = new float[0];

        float[] row(int n) {
            return row.length >= n ? row : (row = new float[n]);
        }

        float[] kt(int n) {
            return kt.length >= n ? kt : (kt = new float[n]);
        }

        float[] vv(int n) {
            return vv.length >= n ? vv : (vv = new float[n]);
        }

        float[] qb(int n) {
            return qb.length >= n ? qb : (qb = new float[n]);
        }

        float[] p(int n) {
            return p.length >= n ? p : (p = new float[n]);
        }

        float[] o(int n) {
            return o.length >= n ? o : (o = new float[n]);
        }
    }
}
