package io.inflow.gpu.backend.cpu.reference;

import io.inflow.gpu.quant.Dyadic;
import io.inflow.gpu.quant.Int8Embedding;
import io.inflow.gpu.quant.Int8Linear;
import io.inflow.gpu.quant.IntLayerNorm;
import io.inflow.gpu.quant.IntegerOps;
import io.inflow.gpu.quant.QuantizedOps;
import io.inflow.gpu.quant.Requant;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * The plain, single-threaded {@link QuantizedOps}: tensors are read into arrays, every output element is written
 * as its definition reads (one dot product per element, one row at a time), then copied back. The oracle the fast
 * and CUDA kernels must equal bit for bit.
 *
 * <p>{@code new QuantizedReference().linear(x, layer, requant, out);}
 */
public final class QuantizedReference implements QuantizedOps {

    @Override
    public void linear(Tensor x, Int8Linear w, Requant r, Tensor out) {
        int m = x.dim(0);
        int k = x.dim(1);
        check(x, DType.INT8, m, w.in());
        check(out, outType(r), m, w.out());
        byte[] a = x.toByteArray();
        int[] acc = new int[m * w.out()];
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < w.out(); c++) {
                int sum = w.bias()[c];
                for (int p = 0; p < k; p++) {
                    sum += a[i * k + p] * w.weights()[c * k + p];
                }
                acc[i * w.out() + c] = r.apply(c, sum);
            }
        }
        store(acc, out);
    }

    @Override
    public void linearWide(Tensor x, Int8Linear w, Requant r, Tensor out) {
        int m = x.dim(0);
        int k = w.in();
        check(x, DType.INT8, m, 2 * k);
        check(out, outType(r), m, w.out());
        byte[] a = x.toByteArray();
        int[] result = new int[m * w.out()];
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < w.out(); c++) {
                long hi = 0;
                long lo = 0;
                for (int p = 0; p < k; p++) {
                    hi += a[i * 2 * k + p] * w.weights()[c * k + p];
                    lo += a[i * 2 * k + k + p] * w.weights()[c * k + p];
                }
                result[i * w.out() + c] = r.apply(c, 256 * hi + lo + w.bias()[c]);
            }
        }
        store(result, out);
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
        int[] scores = new int[seq];
        int[] probs = new int[seq];
        for (int b = 0; b < batch; b++) {
            int valid = len[b];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < seq; i++) {
                    int qRow = (b * seq + i) * 3 * d + h * dh;
                    for (int t = 0; t < valid; t++) {
                        int kRow = (b * seq + t) * 3 * d + d + h * dh;
                        long dot = 0;
                        for (int j = 0; j < dh; j++) {
                            dot += x[qRow + j] * x[kRow + j];
                        }
                        scores[t] = IntegerOps.clampInt32(score.apply(dot));
                    }
                    IntegerOps.shiftmax(scores, 0, valid, probs, 0);
                    for (int j = 0; j < dh; j++) {
                        long sum = 0;
                        for (int t = 0; t < valid; t++) {
                            sum += probs[t] * x[(b * seq + t) * 3 * d + 2 * d + h * dh + j];
                        }
                        result[(b * seq + i) * d + h * dh + j] = ctx.apply(h * dh + j, sum);
                    }
                }
            }
        }
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
        long[] n = new long[d];
        for (int row = 0; row < t; row++) {
            IntegerOps.normalizeRow(y, res, row * d, d, n);
            for (int j = 0; j < d; j++) {
                q[row * d + j] = ln.int8(j, n[j]);
                r[row * d + j] = ln.residual(j, n[j]);
            }
        }
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
        int[] o = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            o[i] = r.apply(i % f, IntegerOps.shiftGelu(v[i]));
        }
        if (r.output() == Requant.Output.INT16) {
            o = splitPlanes(o, t, f);
        }
        store(o, out);
    }

    @Override
    public void embed(Tensor ids, Int8Embedding word, Int8Embedding position, Int8Embedding type, Tensor out) {
        int b = ids.dim(0);
        int s = ids.dim(1);
        int d = word.dim();
        if (out.dtype() != DType.INT32 || out.elementCount() != (long) b * s * d) {
            throw new IllegalArgumentException("embed: out " + out + " for ids [" + b + ", " + s + "] and d " + d);
        }
        int[] id = ids.toIntArray();
        int[] o = new int[b * s * d];
        for (int row = 0; row < b * s; row++) {
            int w = id[row];
            if (w < 0 || w >= word.rows()) {
                throw new IllegalArgumentException("embed: token id " + w + " outside the vocabulary of " + word.rows());
            }
            int pos = row % s;
            for (int j = 0; j < d; j++) {
                long v = word.residual(w, j) + position.residual(pos, j) + (type == null ? 0 : type.residual(0, j));
                o[row * d + j] = IntegerOps.clampInt32(v);
            }
        }
        store(o, out);
    }

    @Override
    public void dequantize(Tensor x, int fractionBits, Tensor out) {
        if (x.dtype() != DType.INT32 || out.dtype() != DType.FLOAT32 || x.elementCount() != out.elementCount()) {
            throw new IllegalArgumentException("dequantize: " + x + " into " + out);
        }
        int[] v = x.toIntArray();
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = Math.scalb((float) v[i], -fractionBits);
        }
        out.copyFrom(f);
    }

    @Override
    public void quantize(Tensor x, float scale, Tensor out) {
        float inv = QuantizedOps.inverseScale(scale);
        if (x.dtype() != DType.FLOAT32 || out.dtype() != DType.INT8 || x.elementCount() != out.elementCount()) {
            throw new IllegalArgumentException("quantize: " + x + " into " + out + " (FLOAT32 into INT8 of the same size)");
        }
        float[] v = x.toFloatArray();
        byte[] q = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            q[i] = (byte) QuantizedOps.quantizeElement(v[i], inv);
        }
        out.copyFrom(q);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        checkAdd(a, b, out);
        int[] x = a.toIntArray();
        int[] y = b.toIntArray();
        int[] o = new int[x.length];
        for (int i = 0; i < o.length; i++) {
            o[i] = IntegerOps.clampInt32((long) x[i] + y[i]);
        }
        out.copyFrom(o);
    }

    /** The operands of {@link #add}: three INT32 tensors of one element count. */
    public static void checkAdd(Tensor a, Tensor b, Tensor out) {
        if (a.dtype() != DType.INT32 || b.dtype() != DType.INT32 || out.dtype() != DType.INT32
                || a.elementCount() != b.elementCount() || a.elementCount() != out.elementCount()) {
            throw new IllegalArgumentException("add: " + a + " + " + b + " into " + out
                    + " (three INT32 tensors of the same size)");
        }
    }

    /** The tensor type of an output requantised by {@code r}: INT32, or INT8 (int16 outputs as two int8 planes). */
    public static DType outType(Requant r) {
        return r.output() == Requant.Output.INT32 ? DType.INT32 : DType.INT8;
    }

    /** Int16 values {@code [t, f]} as rows of {@code [high plane | low plane]}, {@code [t, 2f]}. */
    public static int[] splitPlanes(int[] v, int t, int f) {
        int[] o = new int[2 * v.length];
        for (int row = 0; row < t; row++) {
            for (int j = 0; j < f; j++) {
                int x = v[row * f + j];
                o[row * 2 * f + j] = IntegerOps.highByte(x);
                o[row * 2 * f + f + j] = IntegerOps.lowByte(x);
            }
        }
        return o;
    }

    /** Fails unless {@code t} is {@code dtype} with {@code rows * cols} elements, naming both. */
    public static void check(Tensor t, DType dtype, int rows, int cols) {
        if (t.dtype() != dtype || t.elementCount() != (long) rows * cols) {
            throw new IllegalArgumentException("expected " + dtype + " [" + rows + ", " + cols + "], found " + t);
        }
    }

    /** Writes int values into an INT8 (low byte) or INT32 tensor. */
    public static void store(int[] values, Tensor out) {
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
