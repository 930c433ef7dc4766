package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.backend.TensorMemory;
import io.inflow.gpu.backend.cpu.reference.QuantizedReference;
import io.inflow.gpu.quant.Dyadic;
import io.inflow.gpu.quant.Int8Embedding;
import io.inflow.gpu.quant.Int8Linear;
import io.inflow.gpu.quant.IntLayerNorm;
import io.inflow.gpu.quant.IntegerOps;
import io.inflow.gpu.quant.QuantizedOps;
import io.inflow.gpu.quant.Requant;
import io.inflow.gpu.quant.ShiftGeluTable;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.NativeMemory;
import io.inflow.gpu.tensor.Tensor;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The multi-threaded {@link QuantizedOps}, bit-identical to {@link QuantizedReference}.
 *
 * <p>The int8 GEMM runs on the float SGEMM ({@link Sgemm}), exactly: the JDK's Vector API has no int8 dot-product
 * instruction (no VNNI, no {@code pmaddubsw}), and its widening int16/int32 paths take more instructions per
 * product than one float FMA. Every operand is an integer of magnitude at most 255 x 127, and {@code k} is cut into
 * chunks of at most {@link #EXACT_K} so that every partial sum stays below 2^24, where float32 arithmetic on
 * integers is exact; chunk results are added as ints. The other kernels split rows across threads and run the
 * element definitions of {@link IntegerOps} as they are.
 *
 * <p>{@code new FastQuantizedOps(runner, memory).linear(x, layer, requant, out);}
 */
public final class FastQuantizedOps implements QuantizedOps {
    /** Largest k per float chunk: 1040 * 127 * 127 < 2^24. */
    static final int EXACT_K = 1024;
    /** Longest key row for float attention: 518 * 255 * 127 < 2^24. */
    static final int EXACT_SEQ = 512;
    /** A constant species: the Vector API compiles to SIMD only when the species is a static final. */
    private static final jdk.incubator.vector.VectorSpecies<Float> F = VectorMath.S;

    private final ParallelRunner runner;
    private final TensorMemory memory;
    private final Map<Int8Linear, PackedMatrix[]> packed = Collections.synchronizedMap(new WeakHashMap<>());

    public FastQuantizedOps(ParallelRunner runner, TensorMemory memory) {
        this.runner = runner;
        this.memory = memory;
    }

    @Override
    public void linear(Tensor x, Int8Linear w, Requant r, Tensor out) {
        int m = x.dim(0);
        int k = w.in();
        int n = w.out();
        check(x, DType.INT8, m, k);
        check(out, outType(r), m, n);
        if (m == 0) {
            return;
        }
        byte[] a = x.toByteArray();
        int[] acc = new int[m * n];
        accumulate(a, k, 0, m, w, acc);
        int[] bias = w.bias();
        int[] mul = r.multiplier();
        int[] sh = r.shift();
        Requant.Output o = r.output();
        if (o == Requant.Output.INT32) {
            runner.parallelFor((m + 63) / 64, 4L * m * n, task -> {
                for (int i = task * 64; i < Math.min(m, (task + 1) * 64); i++) {
                    for (int j = 0, e = i * n; j < n; j++, e++) {
                        acc[e] = saturate(requant((long) acc[e] + bias[j], mul[j], sh[j]), o);
                    }
                }
            });
            out.copyFrom(acc);
            return;
        }
        byte[] result = new byte[m * n];
        runner.parallelFor((m + 63) / 64, 4L * m * n, task -> {
            for (int i = task * 64; i < Math.min(m, (task + 1) * 64); i++) {
                for (int j = 0, e = i * n; j < n; j++, e++) {
                    result[e] = (byte) saturate(requant((long) acc[e] + bias[j], mul[j], sh[j]), o);
                }
            }
        });
        out.copyFrom(result);
    }

    /**
     * {@code acc[i, c] += sum_p a[i * stride + offset + p] * w[c, p]}, exactly: k in chunks of at most
     * {@link #EXACT_K} through the float SGEMM.
     */
    private void accumulate(byte[] a, int stride, int offset, int m, Int8Linear w, int[] acc) {
        PackedMatrix[] chunks = packed.computeIfAbsent(w, FastQuantizedOps::pack);
        int n = w.out();
        try (Tensor af = memory.allocate(DType.FLOAT32, m, Math.min(w.in(), EXACT_K));
             Tensor cf = memory.allocate(DType.FLOAT32, m, n)) {
            for (int ch = 0; ch < chunks.length; ch++) {
                int k0 = offset + ch * EXACT_K;
                int kc = chunks[ch].k();
                // rows converted to float and read back in blocks across the threads (each block its own rows)
                runner.parallelFor((m + 63) / 64, 2L * m * kc, task -> {
                    float[] rowBuf = new float[kc];
                    for (int i = task * 64; i < Math.min(m, (task + 1) * 64); i++) {
                        for (int p = 0, src = i * stride + k0; p < kc; p++, src++) {
                            rowBuf[p] = a[src];
                        }
                        NativeMemory.copyFromArray(rowBuf, 0, af.address() + 4L * i * kc, kc);
                    }
                });
                Sgemm.multiply(af.address(), m, kc, chunks[ch], null, cf.address(), runner);
                runner.parallelFor((m + 63) / 64, 2L * m * n, task -> {
                    float[] c = new float[n];
                    for (int i = task * 64; i < Math.min(m, (task + 1) * 64); i++) {
                        NativeMemory.copyToArray(cf.address() + 4L * i * n, c, 0, n);
                        for (int j = 0, e = i * n; j < n; j++, e++) {
                            acc[e] += (int) c[j];
                        }
                    }
                });
            }
        }
    }

    @Override
    public void linearWide(Tensor x, Int8Linear w, Requant r, Tensor out) {
        int m = x.dim(0);
        int k = w.in();
        int n = w.out();
        check(x, DType.INT8, m, 2 * k);
        check(out, outType(r), m, n);
        if (m == 0) {
            return;
        }
        byte[] a = x.toByteArray();
        int[] hi = new int[m * n];
        int[] lo = new int[m * n];
        accumulate(a, 2 * k, 0, m, w, hi);
        accumulate(a, 2 * k, k, m, w, lo);
        int[] bias = w.bias();
        int[] mul = r.multiplier();
        int[] sh = r.shift();
        int[] result = hi;     // each element read before it is overwritten
        runner.parallelFor((m + 63) / 64, 4L * m * n, task -> {
            int i1 = Math.min(m, (task + 1) * 64);
            for (int i = task * 64; i < i1; i++) {
                for (int j = 0, e = i * n; j < n; j++, e++) {
                    long acc = 256L * hi[e] + lo[e] + bias[j];
                    result[e] = saturate(requant(acc, mul[j], sh[j]), r.output());
                }
            }
        });
        store(result, out);
    }

    private static int saturate(long v, Requant.Output output) {
        return switch (output) {
            case INT8 -> IntegerOps.clampInt8(v);
            case INT16 -> IntegerOps.clampInt16(v);
            case INT32 -> IntegerOps.clampInt32(v);
        };
    }

    private static PackedMatrix[] pack(Int8Linear w) {
        int k = w.in();
        int chunks = (k + EXACT_K - 1) / EXACT_K;
        PackedMatrix[] out = new PackedMatrix[chunks];
        for (int ch = 0; ch < chunks; ch++) {
            int k0 = ch * EXACT_K;
            int kc = Math.min(EXACT_K, k - k0);
            float[] src = new float[w.out() * kc];
            for (int c = 0; c < w.out(); c++) {
                for (int p = 0; p < kc; p++) {
                    src[c * kc + p] = w.weights()[c * k + k0 + p];
                }
            }
            out[ch] = PackedMatrix.pack(src, w.out(), kc, true);
        }
        return out;
    }

    @Override
    public void attention(Tensor qkv, Tensor lengths, int batch, int seq, int heads, Dyadic score, Requant ctx,
                          Tensor out) {
        int d = qkv.dim(1) / 3;
        int dh = d / heads;
        check(qkv, DType.INT8, batch * seq, 3 * d);
        check(out, outType(ctx), batch * seq, d);
        if ((long) dh * 128 * 128 > Integer.MAX_VALUE || (long) seq * 255 * 128 > Integer.MAX_VALUE) {
            new QuantizedReference().attention(qkv, lengths, batch, seq, heads, score, ctx, out);   // never in practice
            return;
        }
        byte[] x = qkv.toByteArray();
        int[] len = lengths.toIntArray();
        int[] result = new int[batch * seq * d];
        int[] mul = ctx.multiplier();
        int[] sh = ctx.shift();
        if (dh <= EXACT_K && seq <= EXACT_SEQ) {
            attentionFloat(x, len, batch, seq, heads, d, dh, score, ctx, result);
            store(result, out);
            return;
        }
        // int accumulators are exact here: |q . k| <= dh * 128^2 and sum p * v <= seq * 255 * 128 stay below 2^31
        runner.parallelFor(batch * heads, 4L * batch * seq * seq * d, task -> {
            int b = task / heads;
            int h = task % heads;
            int valid = len[b];
            // keys of this head transposed once (kT[j][t], contiguous loops over t), values row by row (v[t][j])
            int[] keys = new int[dh * valid];
            int[] vals = new int[valid * dh];
            for (int t = 0; t < valid; t++) {
                int row = (b * seq + t) * 3 * d + h * dh;
                for (int j = 0; j < dh; j++) {
                    keys[j * valid + t] = x[row + d + j];
                    vals[t * dh + j] = x[row + 2 * d + j];
                }
            }
            int[] dots = new int[valid];
            int[] scores = new int[valid];
            int[] probs = new int[valid];
            int[] acc = new int[dh];
            for (int i = 0; i < seq; i++) {
                int qRow = (b * seq + i) * 3 * d + h * dh;
                java.util.Arrays.fill(dots, 0);
                for (int j = 0; j < dh; j++) {
                    int q = x[qRow + j];
                    int base = j * valid;
                    for (int t = 0; t < valid; t++) {
                        dots[t] += q * keys[base + t];
                    }
                }
                for (int t = 0; t < valid; t++) {
                    scores[t] = IntegerOps.clampInt32(score.apply(dots[t]));
                }
                FastShiftmax.shiftmax(scores, valid, probs);
                java.util.Arrays.fill(acc, 0);
                for (int t = 0; t < valid; t++) {
                    int p = probs[t];
                    if (p == 0) {
                        continue;
                    }
                    int base = t * dh;
                    for (int j = 0; j < dh; j++) {
                        acc[j] += p * vals[base + j];
                    }
                }
                for (int j = 0; j < dh; j++) {
                    int c = h * dh + j;
                    long v = requant(acc[j], mul[c], sh[c]);
                    result[(b * seq + i) * d + c] = saturate(v, ctx.output());
                }
            }
        });
        store(result, out);
    }

    /**
     * Attention with float vectors, exactly: q, k, v and the probabilities are small integers, |q . k| <= dh * 127^2
     * and sum p * v <= seq * 255 * 127 stay below 2^24 for dh <= {@link #EXACT_K} and seq <= {@link #EXACT_SEQ}, so
     * every float FMA is an exact integer operation (the int version above covers longer rows).
     */
    private void attentionFloat(byte[] x, int[] len, int batch, int seq, int heads, int d, int dh, Dyadic score,
                                Requant ctx, int[] result) {
        int[] mul = ctx.multiplier();
        int[] sh = ctx.shift();
        runner.parallelFor(batch * heads, 4L * batch * seq * seq * d, task -> {
            int b = task / heads;
            int h = task % heads;
            int valid = len[b];
            float[] keys = new float[dh * valid];      // kT[j][t]
            float[] vals = new float[valid * dh];      // v[t][j]
            for (int t = 0; t < valid; t++) {
                int row = (b * seq + t) * 3 * d + h * dh;
                for (int j = 0; j < dh; j++) {
                    keys[j * valid + t] = x[row + d + j];
                    vals[t * dh + j] = x[row + 2 * d + j];
                }
            }
            float[] dots = new float[valid];
            int[] scores = new int[valid];
            int[] probs = new int[valid];
            float[] acc = new float[dh];
            int tBound = F.loopBound(valid);
            int jBound = F.loopBound(dh);
            for (int i = 0; i < seq; i++) {
                int qRow = (b * seq + i) * 3 * d + h * dh;
                java.util.Arrays.fill(dots, 0f);
                for (int j = 0; j < dh; j++) {
                    float q = x[qRow + j];
                    if (q == 0) {
                        continue;
                    }
                    int base = j * valid;
                    jdk.incubator.vector.FloatVector qv = jdk.incubator.vector.FloatVector.broadcast(F, q);
                    int t = 0;
                    for (; t < tBound; t += F.length()) {
                        jdk.incubator.vector.FloatVector.fromArray(F, keys, base + t)
                                .fma(qv, jdk.incubator.vector.FloatVector.fromArray(F, dots, t)).intoArray(dots, t);
                    }
                    for (; t < valid; t++) {
                        dots[t] += q * keys[base + t];
                    }
                }
                for (int t = 0; t < valid; t++) {
                    scores[t] = IntegerOps.clampInt32(score.apply((long) dots[t]));
                }
                FastShiftmax.shiftmax(scores, valid, probs);
                java.util.Arrays.fill(acc, 0f);
                for (int t = 0; t < valid; t++) {
                    int p = probs[t];
                    if (p == 0) {
                        continue;
                    }
                    int base = t * dh;
                    jdk.incubator.vector.FloatVector pv = jdk.incubator.vector.FloatVector.broadcast(F, (float) p);
                    int j = 0;
                    for (; j < jBound; j += F.length()) {
                        jdk.incubator.vector.FloatVector.fromArray(F, vals, base + j)
                                .fma(pv, jdk.incubator.vector.FloatVector.fromArray(F, acc, j)).intoArray(acc, j);
                    }
                    for (; j < dh; j++) {
                        acc[j] += p * vals[base + j];
                    }
                }
                for (int j = 0; j < dh; j++) {
                    int c = h * dh + j;
                    result[(b * seq + i) * d + c] = saturate(requant((long) acc[j], mul[c], sh[c]), ctx.output());
                }
            }
        });
    }

    @Override
    public void layerNorm(Tensor x, Tensor residual, IntLayerNorm ln, Tensor int8Out, Tensor residualOut) {
        int t = x.dim(0);
        int d = ln.dim();
        check(x, DType.INT32, t, d);
        int[] y = x.toIntArray();
        int[] res = residual == null ? null : residual.toIntArray();
        boolean wantInt8 = int8Out != null;
        boolean wantResidual = residualOut != null;
        byte[] q = wantInt8 ? new byte[t * d] : null;
        int[] r = wantResidual ? new int[t * d] : null;
        int[] qm = ln.toInt8().multiplier();
        int[] qs = ln.toInt8().shift();
        int[] rm = ln.toResidual().multiplier();
        int[] rs = ln.toResidual().shift();
        int[] qb = ln.int8Bias();
        int[] rb = ln.residualBias();
        runner.parallelFor((t + 15) / 16, 8L * t * d, task -> {
            long[] n = new long[d];
            int r1 = Math.min(t, (task + 1) * 16);
            for (int row = task * 16; row < r1; row++) {
                IntegerOps.normalizeRow(y, res, row * d, d, n);
                for (int j = 0; wantInt8 && j < d; j++) {
                    q[row * d + j] = (byte) IntegerOps.clampInt8(requant(n[j], qm[j], qs[j]) + qb[j]);
                }
                for (int j = 0; wantResidual && j < d; j++) {
                    r[row * d + j] = IntegerOps.clampInt32(requant(n[j], rm[j], rs[j]) + rb[j]);
                }
            }
        });
        if (wantInt8) {
            check(int8Out, DType.INT8, t, d);
            int8Out.copyFrom(q);
        }
        if (wantResidual) {
            check(residualOut, DType.INT32, t, d);
            residualOut.copyFrom(r);
        }
    }

    @Override
    public void gelu(Tensor x, Requant r, Tensor out) {
        int t = x.dim(0);
        int f = x.dim(1);
        check(x, DType.INT32, t, f);
        check(out, outType(r), t, r.output() == Requant.Output.INT16 ? 2 * f : f);
        int[] v = x.toIntArray();
        int[] mul = r.multiplier();
        int[] sh = r.shift();
        Requant.Output o = r.output();
        if (o == Requant.Output.INT32) {
            runner.parallelFor((t + 15) / 16, 20L * t * f, task -> {
                for (int row = task * 16; row < Math.min(t, (task + 1) * 16); row++) {
                    for (int c = 0, i = row * f; c < f; c++, i++) {
                        v[i] = saturate(requant(ShiftGeluTable.shiftGelu(v[i]), mul[c], sh[c]), o);
                    }
                }
            });
            out.copyFrom(v);
            return;
        }
        // int8 results, or int16 ones written straight into their two planes ([row: high f | low f])
        boolean planes = o == Requant.Output.INT16;
        byte[] b = new byte[planes ? 2 * t * f : t * f];
        runner.parallelFor((t + 15) / 16, 20L * t * f, task -> {
            for (int row = task * 16; row < Math.min(t, (task + 1) * 16); row++) {
                int base = planes ? row * 2 * f : row * f;
                for (int c = 0, i = row * f; c < f; c++, i++) {
                    int g = saturate(requant(ShiftGeluTable.shiftGelu(v[i]), mul[c], sh[c]), o);
                    if (planes) {
                        b[base + c] = (byte) IntegerOps.highByte(g);
                        b[base + f + c] = (byte) IntegerOps.lowByte(g);
                    } else {
                        b[base + c] = (byte) g;
                    }
                }
            }
        });
        out.copyFrom(b);
    }

    @Override
    public void embed(Tensor ids, Int8Embedding word, Int8Embedding position, Int8Embedding type, Tensor out) {
        int b = ids.dim(0);
        int s = ids.dim(1);
        int d = word.dim();
        if (out.dtype() != DType.INT32 || out.elementCount() != (long) b * s * d || s > position.rows()) {
            new QuantizedReference().embed(ids, word, position, type, out);      // its checks name the problem
            return;
        }
        int[] id = ids.toIntArray();
        for (int w : id) {
            if (w < 0 || w >= word.rows()) {
                new QuantizedReference().embed(ids, word, position, type, out);
                return;
            }
        }
        int[] o = new int[b * s * d];
        runner.parallelFor((b * s + 31) / 32, 6L * b * s * d, task -> {
            int r1 = Math.min(b * s, (task + 1) * 32);
            for (int row = task * 32; row < r1; row++) {
                int w = id[row];
                int pos = row % s;
                int wm = word.toResidual().multiplier()[w];
                int ws = word.toResidual().shift()[w];
                int pm = position.toResidual().multiplier()[pos];
                int ps = position.toResidual().shift()[pos];
                for (int j = 0; j < d; j++) {
                    long v = requant(word.table()[w * d + j], wm, ws) + requant(position.table()[pos * d + j], pm, ps);
                    if (type != null) {
                        v += requant(type.table()[j], type.toResidual().multiplier()[0], type.toResidual().shift()[0]);
                    }
                    o[row * d + j] = IntegerOps.clampInt32(v);
                }
            }
        });
        out.copyFrom(o);
    }

    @Override
    public void dequantize(Tensor x, int fractionBits, Tensor out) {
        new QuantizedReference().dequantize(x, fractionBits, out);
    }

    @Override
    public void quantize(Tensor x, float scale, Tensor out) {
        float inv = QuantizedOps.inverseScale(scale);
        if (x.dtype() != DType.FLOAT32 || out.dtype() != DType.INT8 || x.elementCount() != out.elementCount()) {
            throw new IllegalArgumentException("quantize: " + x + " into " + out + " (FLOAT32 into INT8 of the same size)");
        }
        float[] v = x.toFloatArray();
        byte[] q = new byte[v.length];
        int n = v.length;
        runner.parallelFor((n + BLOCK - 1) / BLOCK, 4L * n, task -> {
            int i1 = Math.min(n, (task + 1) * BLOCK);
            for (int i = task * BLOCK; i < i1; i++) {
                q[i] = (byte) QuantizedOps.quantizeElement(v[i], inv);
            }
        });
        out.copyFrom(q);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        QuantizedReference.checkAdd(a, b, out);
        int[] x = a.toIntArray();
        int[] y = b.toIntArray();
        int n = x.length;
        runner.parallelFor((n + BLOCK - 1) / BLOCK, n, task -> {
            int i1 = Math.min(n, (task + 1) * BLOCK);
            for (int i = task * BLOCK; i < i1; i++) {
                x[i] = IntegerOps.clampInt32((long) x[i] + y[i]);
            }
        });
        out.copyFrom(x);
    }

    /** Elements per task of the element-wise kernels. */
    private static final int BLOCK = 16_384;

    /** {@link Dyadic#apply} on raw fields. */
    static long requant(long x, int multiplier, int shift) {
        long p = x * multiplier;
        return shift == 0 ? p : (p + (1L << (shift - 1))) >> shift;
    }

    private static DType outType(Requant r) {
        return QuantizedReference.outType(r);
    }

    private static void check(Tensor t, DType dtype, int rows, int cols) {
        QuantizedReference.check(t, dtype, rows, cols);
    }

    private static void store(int[] values, Tensor out) {
        QuantizedReference.store(values, out);
    }
}
