package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.cpu.reference.QuantizedReference;
import io.inflow.gpu.backend.cuda.kernels.QuantKernel;
import io.inflow.gpu.quant.Dyadic;
import io.inflow.gpu.quant.Int8Embedding;
import io.inflow.gpu.quant.Int8Linear;
import io.inflow.gpu.quant.IntLayerNorm;
import io.inflow.gpu.quant.QuantizedOps;
import io.inflow.gpu.quant.Requant;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * The {@code QUANTIZED} family on CUDA ({@code quant.cu}, launched by {@link QuantKernel}): the same integers as
 * {@link QuantizedReference}, bit for bit. Each method checks its arguments with the reference's checks and messages
 * (plus the location check: kernels take this backend's device tensors), then launches one kernel on the backend's
 * stream. Parameters ({@link Int8Linear}, {@link Requant}, {@link IntLayerNorm}, {@link Int8Embedding}) are uploaded
 * on first use and cached per object ({@link DeviceParameters}); scalars (the attention's score dyadic, the quantize
 * scale) travel as kernel arguments. Checks that need data values (token ids, lengths) use the range recorded when
 * the host wrote them, and copy them back only when that is unknown or out of range.
 *
 * <p>Limits beyond the reference's (each failing with a message): {@code linearWide}'s k up to
 * {@link QuantKernel#MAX_WIDE_K} (the planes accumulate in int32 on the tensor cores), attention rows and LayerNorm
 * rows that fit {@link QuantKernel#MAX_ROW_SHARED} bytes of shared memory, a model width divisible by the heads.
 *
 * <p>{@code cudaBackend.quantized().linear(xq, layer, requant, out);   // as on the CPU backends}
 */
final class CudaQuantizedOps implements QuantizedOps, AutoCloseable {
    private final CudaMemory memory;
    private final CudaContext context;
    private final KernelLauncher launcher;
    private final DeviceParameters parameters;

    CudaQuantizedOps(CudaMemory memory, CudaContext context, KernelLauncher launcher) {
        this.memory = memory;
        this.context = context;
        this.launcher = launcher;
        this.parameters = new DeviceParameters(memory);
    }

    @Override
    public void linear(Tensor x, Int8Linear w, Requant r, Tensor out) {
        gemm("linear", false, x, w, r, out);
    }

    @Override
    public void linearWide(Tensor x, Int8Linear w, Requant r, Tensor out) {
        gemm("linearWide", true, x, w, r, out);
    }

    private void gemm(String op, boolean wide, Tensor x, Int8Linear w, Requant r, Tensor out) {
        CudaChecks.device(op, "x", x);
        CudaChecks.device(op, "out", out);
        int m = x.dim(0);
        int n = w.out();
        int k = w.in();
        QuantizedReference.check(x, DType.INT8, m, wide ? 2 * k : k);
        QuantizedReference.check(out, QuantizedReference.outType(r), m, n);
        channels(op, r, n);
        if (m == 0 || n == 0) {
            return;
        }
        Tensor[] wb = parameters.linear(w);
        Tensor rq = parameters.requant(r);
        context.run(() -> QuantKernel.linear(launcher, wide, x, wb[0], wb[1], rq, r.channels(), r.output(), out, m, n,
                k));
    }

    @Override
    public void attention(Tensor qkv, Tensor lengths, int batch, int seq, int heads, Dyadic score, Requant ctx,
                          Tensor out) {
        CudaChecks.device("attention", "qkv", qkv);
        CudaChecks.device("attention", "out", out);
        int d = qkv.dim(1) / 3;
        if (heads < 1 || d % heads != 0) {
            throw new IllegalArgumentException("attention: width " + d + " is not divisible into " + heads + " heads");
        }
        int dh = d / heads;
        QuantizedReference.check(qkv, DType.INT8, batch * seq, 3 * d);
        QuantizedReference.check(out, QuantizedReference.outType(ctx), batch * seq, d);
        channels("attention", ctx, d);
        checkLengths(lengths, batch, seq);
        if (batch == 0 || seq == 0 || d == 0) {
            return;
        }
        Tensor rq = parameters.requant(ctx);
        context.run(() -> QuantKernel.attention(launcher, qkv, lengths, out, batch, seq, heads, dh, score, rq,
                ctx.channels(), ctx.output()));
    }

    @Override
    public void layerNorm(Tensor x, Tensor residual, IntLayerNorm ln, Tensor int8Out, Tensor residualOut) {
        CudaChecks.device("layerNorm", "x", x);
        int t = x.dim(0);
        int d = ln.dim();
        QuantizedReference.check(x, DType.INT32, t, d);
        if (residual != null) {
            CudaChecks.device("layerNorm", "residual", residual);
            QuantizedReference.check(residual, DType.INT32, t, d);
        }
        if (int8Out != null) {
            CudaChecks.device("layerNorm", "int8Out", int8Out);
            QuantizedReference.check(int8Out, DType.INT8, t, d);
        }
        if (residualOut != null) {
            CudaChecks.device("layerNorm", "residualOut", residualOut);
            QuantizedReference.check(residualOut, DType.INT32, t, d);
        }
        if (int8Out == null && residualOut == null || t == 0 || d == 0) {
            return;
        }
        Tensor params = parameters.layerNorm(ln);
        context.run(() -> QuantKernel.layerNorm(launcher, x, residual, params, int8Out, residualOut, t, d));
    }

    @Override
    public void gelu(Tensor x, Requant r, Tensor out) {
        CudaChecks.device("gelu", "x", x);
        CudaChecks.device("gelu", "out", out);
        int t = x.dim(0);
        int f = x.dim(1);
        QuantizedReference.check(x, DType.INT32, t, f);
        QuantizedReference.check(out, QuantizedReference.outType(r), t, r.output() == Requant.Output.INT16 ? 2 * f : f);
        channels("gelu", r, f);
        if ((long) t * f == 0) {
            return;
        }
        Tensor rq = parameters.requant(r);
        context.run(() -> QuantKernel.gelu(launcher, x, rq, r.channels(), r.output(), out, t, f));
    }

    @Override
    public void embed(Tensor ids, Int8Embedding word, Int8Embedding position, Int8Embedding type, Tensor out) {
        CudaChecks.device("embed", "ids", ids);
        CudaChecks.device("embed", "out", out);
        CudaChecks.dtype("embed", "ids", ids, DType.INT32);
        int b = ids.dim(0);
        int s = ids.dim(1);
        int d = word.dim();
        if (out.dtype() != DType.INT32 || out.elementCount() != (long) b * s * d) {
            throw new IllegalArgumentException("embed: out " + out + " for ids [" + b + ", " + s + "] and d " + d);
        }
        if (position.dim() != d || type != null && type.dim() != d || s > position.rows()
                || type != null && type.rows() < 1) {
            throw new IllegalArgumentException("embed: tables of widths " + d + ", " + position.dim()
                    + (type == null ? "" : ", " + type.dim()) + " and " + position.rows() + " positions for ids [" + b
                    + ", " + s + "]");
        }
        int[] range = memory.knownRange(ids);
        if (range == null || range[0] < 0 || range[1] >= word.rows()) {   // unknown or out of range: read them back
            for (int w : memory.downloadInts(ids)) {
                if (w < 0 || w >= word.rows()) {
                    throw new IllegalArgumentException("embed: token id " + w + " outside the vocabulary of "
                            + word.rows());
                }
            }
        }
        if ((long) b * s * d == 0) {
            return;
        }
        Tensor[] wt = parameters.embedding(word);
        Tensor[] pt = parameters.embedding(position);
        Tensor[] tt = type == null ? new Tensor[2] : parameters.embedding(type);
        context.run(() -> QuantKernel.embed(launcher, ids, wt[0], wt[1], word.rows(), pt[0], pt[1], position.rows(),
                tt[0], tt[1], type == null ? 0 : type.rows(), out, b, s, d));
    }

    @Override
    public void dequantize(Tensor x, int fractionBits, Tensor out) {
        if (x.dtype() != DType.INT32 || out.dtype() != DType.FLOAT32 || x.elementCount() != out.elementCount()) {
            throw new IllegalArgumentException("dequantize: " + x + " into " + out);
        }
        CudaChecks.device("dequantize", "x", x);
        CudaChecks.device("dequantize", "out", out);
        context.run(() -> QuantKernel.dequantize(launcher, x, fractionBits, out, x.elementCount()));
    }

    @Override
    public void quantize(Tensor x, float scale, Tensor out) {
        float inv = QuantizedOps.inverseScale(scale);
        if (x.dtype() != DType.FLOAT32 || out.dtype() != DType.INT8 || x.elementCount() != out.elementCount()) {
            throw new IllegalArgumentException("quantize: " + x + " into " + out
                    + " (FLOAT32 into INT8 of the same size)");
        }
        CudaChecks.device("quantize", "x", x);
        CudaChecks.device("quantize", "out", out);
        context.run(() -> QuantKernel.quantize(launcher, x, inv, out, x.elementCount()));
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        QuantizedReference.checkAdd(a, b, out);
        CudaChecks.device("add", "a", a);
        CudaChecks.device("add", "b", b);
        CudaChecks.device("add", "out", out);
        context.run(() -> QuantKernel.add(launcher, a, b, out, out.elementCount()));
    }

    /** Fails unless {@code r} has a dyadic for each of the {@code n} output channels. */
    private static void channels(String op, Requant r, int n) {
        if (r.channels() < n) {
            throw new IllegalArgumentException(op + ": requant of " + r.channels() + " channels for " + n
                    + " output channels");
        }
    }

    /** Lengths in [1, seq], from the range recorded when the host wrote them (read back only when unknown). */
    private void checkLengths(Tensor lengths, int batch, int seq) {
        CudaChecks.lengthsShape("attention", lengths, batch);
        int[] r = memory.knownRange(lengths);
        if (batch > 0 && (r == null || r[0] < 1 || r[1] > seq)) {
            CudaChecks.lengths("attention", lengths, memory.downloadInts(lengths), batch, seq);
        }
    }

    /** Device copies of the parameters held now (tests). */
    int cachedParameters() {
        return parameters.size();
    }

    /** Frees the cached parameter copies (the backend's close, before its memory). */
    @Override
    public void close() {
        parameters.close();
    }

    @Override
    public String toString() {
        return "cuda-quantized";
    }
}
