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
        runner.parallelFor((m + 63) / 64, 4L * m * n, task -> {
            int i1 = Math.min(m, (task + 1) * 64);
            for (int i = task * 64; i < i1; i++) {
                for (int j = 0; j < n; j++) {
                    long v = requant((long) acc[i * n + j] + bias[j], mul[j], sh[j]);
                    acc[i * n + j] = saturate(v, r.output());
                }
            }
        });
        store(acc, out);
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
                float[] rowBuf = new float[kc];
                for (int i = 0; i < m; i++) {
                    for (int p = 0; p < kc; p++) {
                        rowBuf[p] = a[i * stride + k0 + p];
                    }
                    NativeMemory.copyFromArray(rowBuf, 0, af.address() + 4L * i * kc, kc);
                }
                Sgemm.multiply(af.address(), m, kc, chunks[ch], null, cf.address(), runner);
                float[] c = new float[n];
                for (int i = 0; i < m; i++) {
                    NativeMemory.copyToArray(cf.address() + 4L * i * n, c, 0, n);
                    for (int j = 0; j < n; j++) {
                        acc[i * n + j] += (int) c[j];
                    }
                }
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
        int[] result = new int[m * n];
        runner.parallelFor((m + 63) / 64, 4L * m * n, task -> {
            int i1 = Math.min(m, (task + 1) * 64);
            for (int i = task * 64; i < i1; i++) {
                for (int j = 0; j < n; j++) {
                    long acc = 256L * hi[i * n + j] + lo[i * n + j] + bias[j];
                    result[i * n + j] = saturate(requant(acc, mul[j], sh[j]), r.output());
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
        byte[] x = qkv.toByteArray();
        int[] len = lengths.toIntArray();
        int[] result = new int[batch * seq * d];
        int[] mul = ctx.multiplier();
        int[] sh = ctx.shift();
        runner.parallelFor(batch * heads, 4L * batch * seq * seq * d, task -> {
            int b = task / heads;
            int h = task % heads;
            int valid = len[b];
            // keys and values of this head, transposed once: kT[j][t] and vT[j][t] for contiguous loops over t
            int[] keys = new int[dh * valid];
            int[] vals = new int[dh * valid];
            for (int t = 0; t < valid; t++) {
                int row = (b * seq + t) * 3 * d + h * dh;
                for (int j = 0; j < dh; j++) {
                    keys[j * valid + t] = x[row + d + j];
                    vals[j * valid + t] = x[row + 2 * d + j];
                }
            }
            long[] dots = new long[valid];
            int[] scores = new int[valid];
            int[] probs = new int[valid];
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
                IntegerOps.shiftmax(scores, 0, valid, probs, 0);
                for (int j = 0; j < dh; j++) {
                    int base = j * valid;
                    long sum = 0;
                    for (int t = 0; t < valid; t++) {
                        sum += probs[t] * vals[base + t];
                    }
                    int c = h * dh + j;
                    long v = requant(sum, mul[c], sh[c]);
                    result[(b * seq + i) * d + c] = saturate(v, ctx.output());
                }
            }
        });
        store(result, out);
    }

    @Override
    public void layerNorm(Tensor x, Tensor residual, IntLayerNorm ln, Tensor int8Out, Tensor residualOut) {
        int t = x.dim(0);
        int d = ln.dim();
        check(x, DType.INT32, t, d);
        int[] y = x.toIntArray();
        int[] res = residual == null ? null : residual.toIntArray();
        int[] q = new int[t * d];
        int[] r = new int[t * d];
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
                for (int j = 0; j < d; j++) {
                    q[row * d + j] = IntegerOps.clampInt8(requant(n[j], qm[j], qs[j]) + qb[j]);
                    r[row * d + j] = IntegerOps.clampInt32(requant(n[j], rm[j], rs[j]) + rb[j]);
                }
            }
        });
        if (int8Out != null) {
            check(int8Out, DType.INT8, t, d);
            store(q, int8Out);
        }
        if (residualOut != null) {
            check(residualOut, DType.INT32, t, d);
            store(r, residualOut);
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
        runner.parallelFor((t + 15) / 16, 20L * t * f, task -> {
            int r1 = Math.min(t, (task + 1) * 16);
            for (int i = task * 16 * f; i < r1 * f; i++) {
                int c = i % f;
                v[i] = saturate(requant(IntegerOps.shiftGelu(v[i]), mul[c], sh[c]), r.output());
            }
        });
        store(r.output() == Requant.Output.INT16 ? QuantizedReference.splitPlanes(v, t, f) : v, out);
    }

    @Override
    public void embed(Tensor ids, Int8Embedding word, Int8Embedding position, Int8Embedding type, Tensor out) {
        new QuantizedReference().embed(ids, word, position, type, out);
    }

    @Override
    public void dequantize(Tensor x, int fractionBits, Tensor out) {
        new QuantizedReference().dequantize(x, fractionBits, out);
    }

    /** {@link Dyadic#apply} on raw fields. */
    static long requant(long x, int multiplier, int shift) {
        long p = x * multiplier;
        return shift == 0 ? p : (p + (1L << (shift - 1))) >> shift;
    }

    private static DType outType(Requant r) {
        return r.output() == Requant.Output.INT32 ? DType.INT32 : DType.INT8;
    }

    private static void check(Tensor t, DType dtype, int rows, int cols) {
        if (t.dtype() != dtype || t.elementCount() != (long) rows * cols) {
            throw new IllegalArgumentException("expected " + dtype + " [" + rows + ", " + cols + "], found " + t);
        }
    }

    private static void store(int[] values, Tensor out) {
        if (out.dtype() == DType.INT32) {
            out.copyFrom(values);
        } else {
            byte[] b = new byte[values.length];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) values[i];
            }
            out.copyFrom(b);
        }
    }
}
