package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.TransformerComposites;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.backend.cuda.kernels.ActivationsKernel;
import io.inflow.gpu.backend.cuda.kernels.AttentionKernel;
import io.inflow.gpu.backend.cuda.kernels.ElementwiseKernel;
import io.inflow.gpu.backend.cuda.kernels.EmbeddingKernel;
import io.inflow.gpu.backend.cuda.kernels.FlashAttentionKernel;
import io.inflow.gpu.backend.cuda.kernels.GemmKernel;
import io.inflow.gpu.backend.cuda.kernels.GemmTcKernel;
import io.inflow.gpu.backend.cuda.kernels.LayerNormKernel;
import io.inflow.gpu.backend.cuda.kernels.PoolingKernel;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;

/**
 * The transformer family on CUDA: each method checks its arguments ({@link CudaChecks}, the CPU backends' messages),
 * then launches its kernel (launchers in {@code backend.cuda.kernels}) on the backend's stream from the context
 * thread. The GEMM rounds its inputs to {@link GemmPrecision} (float32 accumulation); the bias, and GELU, are fused in
 * its epilogue. Weights declared with {@link #prepareWeights} are read as 16-bit copies rounded once
 * ({@link ResidentWeights}: bit for bit the per-call rounding, half the weight bytes); projections declared with
 * {@link #prepareSelfAttention} run as one GEMM with the fused {@code [3d, d]} weight into {@code qkv}, read by the
 * attention kernel in place. {@link #linearResidual}, and {@link #selfAttention} on undeclared weights, are the plain
 * compositions of {@link TransformerComposites} over this family's own kernels. Checks that need data values (token
 * ids, lengths) copy those small tensors to the host first.
 *
 * <pre>{@code
 * TransformerOps ops = cudaBackend.transformer();
 * ops.prepareSelfAttention(wq, bq, wk, bk, wv, bv);     // once, at load
 * ops.prepareWeights(wo);
 * ops.selfAttention(x, wq, bq, wk, bk, wv, bv, lengths, heads, qkv, ctx);   // one GEMM + one attention kernel
 * ops.linear(ctx2, wo, bo, y);                          // reads wo's 16-bit copy
 * }</pre>
 */
final class CudaTransformerOps implements TransformerOps, AutoCloseable {
    private final CudaMemory memory;
    private final CudaContext context;
    private final KernelLauncher launcher;
    private final GemmPrecision precision;
    private final ResidentWeights resident;
    private final CudaGraphs graphs;

    CudaTransformerOps(CudaMemory memory, CudaContext context, KernelLauncher launcher, GemmPrecision precision) {
        this.memory = memory;
        this.context = context;
        this.launcher = launcher;
        this.precision = precision;
        this.resident = new ResidentWeights(memory, launcher, precision);
        this.graphs = new CudaGraphs(context, memory, launcher);
    }

    /** The pass's launches replayed as a CUDA graph once they recur ({@link CudaGraphs}). */
    @Override
    public void recorded(Object key, Runnable forward) {
        context.run(() -> graphs.run(key, forward));
    }

    /** {eager passes, graphs captured, graph replays} (tests, the benchmark). */
    long[] graphCounts() {
        return graphs.counts();
    }

    /**
     * BF16 at BF16 GEMM precision where the flash-attention kernel covers {@code headDim} (32, 64, 128): the
     * encoders then hand this family bf16 GEMM operands, which run on the tensor-core GEMM ({@code gemm_tc.cu}) and
     * flash attention; float32 otherwise (the WMMA GEMM and {@code attention_f32}).
     */
    @Override
    public DType activationType(int headDim) {
        return precision == GemmPrecision.BF16 && FlashAttentionKernel.supports(headDim) ? DType.BFLOAT16
                : DType.FLOAT32;
    }

    @Override
    public void prepareWeights(Tensor... linearWeights) {
        context.run(() -> {
            for (Tensor w : linearWeights) {
                resident.prepareLinear(w);
            }
        });
    }

    @Override
    public void prepareSelfAttention(Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv) {
        context.run(() -> resident.prepareSelfAttention(wq, bq, wk, bk, wv, bv));
    }

    /** Resident copies held now: {linear weights, fused self-attention projections} (tests). */
    int[] residentWeights() {
        return resident.counts();
    }

    /** Frees the resident copies: the per-call path until weights are declared again (tests compare the two). */
    void releaseResidentWeights() {
        resident.clear();
    }

    /** Frees the resident copies (the backend's close, before its memory). */
    @Override
    public void close() {
        graphs.close();
        resident.close();
        synchronized (zeroBiases) {
            zeroBiases.values().forEach(Tensor::close);
            zeroBiases.clear();
        }
    }

    // ---- bf16 activations: the tensor-core GEMM -------------------------------------------------------

    private final Map<Integer, Tensor> zeroBiases = new HashMap<>();

    private static boolean low(Tensor t) {
        return t.dtype() == DType.BFLOAT16;
    }

    /**
     * {@code out = epilogue(x · weight^T + bias)} with bf16 {@code x}, on the resident bf16 copy of {@code weight}
     * (made now if the weight was not declared; rounded into a temporary when it cannot be kept). {@code out} is
     * bf16 or float32 ({@code BIAS_RESIDUAL}: float32, read and written in place). A null bias is a zero bias.
     */
    private void gemmLow(String op, Tensor x, Tensor weight, Tensor bias, GemmKernel.Epilogue epilogue, Tensor out) {
        int[] xm = CudaChecks.floatMatrix(op, "x", x);
        CudaChecks.dtype(op, "weight", CudaChecks.device(op, "weight", weight), DType.FLOAT32);
        CudaChecks.shape(op, "weight", weight, weight.rank() == 2 ? weight.dim(0) : -1, xm[1]);
        int n = weight.dim(0);
        int[] om = CudaChecks.floatMatrix(op, "out", out);
        if (om[0] != xm[0] || om[1] != n) {
            throw new IllegalArgumentException(op + ": out expected [" + xm[0] + ", " + n + "], found " + out);
        }
        if (bias != null) {
            CudaChecks.dtype(op, "bias", bias, DType.FLOAT32);
            CudaChecks.shape(op, "bias", bias, n);
        }
        if (!GemmTcKernel.supports(xm[1])) {
            throw new IllegalArgumentException(op + ": bf16 activations need the input width to be a multiple of 8 "
                    + "(found " + xm[1] + ")");
        }
        context.run(() -> {
            Tensor b = bias != null ? bias : zeroBias(n);
            Tensor w16 = resident.linear(weight);
            if (w16 == null) {
                resident.prepareLinear(weight);
                w16 = resident.linear(weight);
            }
            if (w16 != null) {
                GemmTcKernel.launch(launcher, x, w16, b, epilogue, out, xm[0], n, xm[1]);
                return;
            }
            try (Tensor once = memory.allocate(DType.BFLOAT16, n, xm[1])) {   // a view or borrowed weight
                GemmKernel.round(launcher, precision, weight, once, (long) n * xm[1]);
                GemmTcKernel.launch(launcher, x, once, b, epilogue, out, xm[0], n, xm[1]);
            }
        });
    }

    private Tensor zeroBias(int n) {
        synchronized (zeroBiases) {
            Tensor z = zeroBiases.get(n);
            if (z == null) {
                z = memory.allocate(DType.FLOAT32, n);
                ElementwiseKernel.fill(launcher, z, 0f, n);
                zeroBiases.put(n, z);
            }
            return z;
        }
    }

    /** LayerNorm of float32 {@code x + residual} into float32 {@code out} (or null) and bf16 {@code low}. */
    private void layerNormLow(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out, Tensor low) {
        int[] rc = CudaChecks.layerNorm(x, residual, gamma, beta, out != null ? out : x);
        CudaChecks.sameFloatSize("layerNorm", "x", x, "out", low);
        context.run(() -> LayerNormKernel.launchBf16(launcher, x, residual, gamma, beta, eps, out, low, rc[0], rc[1]));
    }


    /** The GEMM with {@code weight^T}: its resident 16-bit copy when it has one, else rounded in the call. */
    private void gemmWithWeight(Tensor x, Tensor weight, Tensor bias, GemmKernel.Epilogue epilogue, Tensor out,
                                int[] mnk) {
        Tensor w16 = resident.linear(weight);
        if (w16 != null) {
            GemmKernel.launchResident(launcher, precision, x, w16, bias, epilogue, out, mnk[0], mnk[1], mnk[2]);
        } else {
            GemmKernel.launch(launcher, precision, x, weight, true, bias, epilogue, out, mnk[0], mnk[1], mnk[2]);
        }
    }

    @Override
    public void matmul(Tensor a, Tensor b, boolean transposeB, Tensor out) {
        int[] mnk = CudaChecks.matmul(a, b, transposeB, out);
        context.run(() -> GemmKernel.launch(launcher, precision, a, b, transposeB, null,
                GemmKernel.Epilogue.NONE, out, mnk[0], mnk[1], mnk[2]));
    }

    /** The bias is added in the GEMM's epilogue (one pass over the output instead of two). */
    @Override
    public void linear(Tensor x, Tensor weight, Tensor bias, Tensor out) {
        if (low(x)) {
            gemmLow("linear", x, weight, bias, GemmKernel.Epilogue.BIAS, out);
            return;
        }
        int[] mnk = CudaChecks.matmul(x, weight, true, out);
        if (bias != null) {
            CudaChecks.shape("linear", "bias", bias, mnk[1]);
        }
        context.run(() -> gemmWithWeight(x, weight, bias,
                bias == null ? GemmKernel.Epilogue.NONE : GemmKernel.Epilogue.BIAS, out, mnk));
    }

    /** {@code out = gelu(x · weight^T + bias)} in one kernel (the fused epilogue); without a bias, linear then gelu. */
    @Override
    public void linearGelu(Tensor x, Tensor weight, Tensor bias, Tensor out) {
        if (low(x)) {
            gemmLow("linearGelu", x, weight, bias, GemmKernel.Epilogue.BIAS_GELU, out);
            return;
        }
        if (bias == null) {
            TransformerComposites.linearGelu(this, x, weight, null, out);
            return;
        }
        int[] mnk = CudaChecks.matmul(x, weight, true, out);
        CudaChecks.shape("linearGelu", "bias", bias, mnk[1]);
        context.run(() -> gemmWithWeight(x, weight, bias, GemmKernel.Epilogue.BIAS_GELU, out, mnk));
    }

    /**
     * With bf16 {@code x}: one tensor-core GEMM whose epilogue adds the bias and the float32 residual in place. With
     * float32 {@code x}: linear into a temporary device tensor, then add.
     */
    @Override
    public void linearResidual(Tensor x, Tensor weight, Tensor bias, Tensor residualOut) {
        if (low(x)) {
            CudaChecks.dtype("linearResidual", "residualOut", residualOut, DType.FLOAT32);
            gemmLow("linearResidual", x, weight, bias, GemmKernel.Epilogue.BIAS_RESIDUAL, residualOut);
            return;
        }
        TransformerComposites.linearResidual(this, memory, x, weight, bias, residualOut);
    }

    @Override
    public void addBias(Tensor x, Tensor bias) {
        int[] rc = CudaChecks.bias("addBias", x, bias);
        context.run(() -> ElementwiseKernel.addBias(launcher, x, bias, rc[0], rc[1]));
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        CudaChecks.sameSize("add", "a", a, "b", b);
        CudaChecks.sameSize("add", "a", a, "out", out);
        context.run(() -> ElementwiseKernel.add(launcher, a, b, out, out.elementCount()));
    }

    @Override
    public void fill(Tensor x, float value) {
        CudaChecks.dtype("fill", "x", x, DType.FLOAT32);
        context.run(() -> ElementwiseKernel.fill(launcher, x, value, x.elementCount()));
    }

    @Override
    public void scaleAdd(Tensor acc, Tensor x, float alpha) {
        CudaChecks.sameSize("scaleAdd", "acc", acc, "x", x);
        context.run(() -> ElementwiseKernel.scaleAdd(launcher, acc, x, alpha, acc.elementCount()));
    }

    /** A bf16 {@code out} gets the warp-per-row kernel writing bf16 only. */
    @Override
    public void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out) {
        if (low(out)) {
            layerNormLow(x, residual, gamma, beta, eps, null, out);
            return;
        }
        int[] rc = CudaChecks.layerNorm(x, residual, gamma, beta, out);
        context.run(() -> LayerNormKernel.launch(launcher, x, residual, gamma, beta, eps, out, rc[0], rc[1]));
    }

    /** Both outputs from one kernel ({@code layernorm_f32_bf16}) when {@code lowCopy} is a bf16 tensor. */
    @Override
    public void layerNorm(Tensor x, Tensor residual, Tensor gamma, Tensor beta, float eps, Tensor out,
                          Tensor lowCopy) {
        if (lowCopy == null || lowCopy == out) {
            layerNorm(x, residual, gamma, beta, eps, out);
            return;
        }
        CudaChecks.dtype("layerNorm", "lowCopy", lowCopy, DType.BFLOAT16);
        layerNormLow(x, residual, gamma, beta, eps, out, lowCopy);
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        CudaChecks.sameSize("gelu", "x", x, "out", out);
        context.run(() -> ActivationsKernel.gelu(launcher, x, out, x.elementCount()));
    }

    @Override
    public void quickGelu(Tensor x, Tensor out) {
        CudaChecks.sameSize("quickGelu", "x", x, "out", out);
        context.run(() -> ActivationsKernel.quickGelu(launcher, x, out, x.elementCount()));
    }

    @Override
    public void glu(Tensor x, GluGate gate, Tensor out) {
        int[] rc = CudaChecks.glu(x, out);
        context.run(() -> ActivationsKernel.glu(launcher, x, gate, out, rc[0], rc[1] / 2));
    }

    @Override
    public void l2Normalize(Tensor x, Tensor out) {
        int[] rc = CudaChecks.matrix("l2Normalize", "x", x);
        CudaChecks.sameSize("l2Normalize", "x", x, "out", out);
        context.run(() -> ElementwiseKernel.l2Normalize(launcher, x, out, rc[0], rc[1]));
    }

    @Override
    public void embed(Tensor ids, Tensor tokenTypes, Tensor wordTable, Tensor positionTable, Tensor typeTable,
                      Tensor out) {
        int[] bsd = CudaChecks.embed(ids, tokenTypes, wordTable, positionTable, typeTable, out);
        int vocab = wordTable.dim(0);
        int typeVocab = typeTable == null ? 0 : typeTable.dim(0);
        int[] idRange = memory.knownRange(ids);
        int[] typeRange = tokenTypes == null ? new int[] {0, 0} : memory.knownRange(tokenTypes);
        boolean known = idRange != null && idRange[0] >= 0 && idRange[1] < vocab && (typeTable == null
                || typeRange != null && typeRange[0] >= 0 && typeRange[1] < typeVocab);
        if (!known) { // values not seen on the host, or out of range: read them back for the exact message
            CudaChecks.tokenIds(memory.downloadInts(ids), tokenTypes == null ? null : memory.downloadInts(tokenTypes),
                    vocab, typeVocab, typeTable != null, bsd[1]);
        }
        context.run(() -> EmbeddingKernel.launch(launcher, ids, tokenTypes, wordTable, positionTable, typeTable, out,
                bsd[0], bsd[1], bsd[2]));
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor lengths, int heads, Tensor out) {
        int[] bsd = CudaChecks.attention(q, k, v, heads, out);
        checkLengths("attention", lengths, bsd[0], bsd[1]);
        context.run(() -> AttentionKernel.launch(launcher, q, k, v, lengths, out, bsd[0], bsd[1], heads,
                bsd[2] / heads));
    }

    /**
     * With projections declared by {@link #prepareSelfAttention}: one GEMM with the fused {@code [3d, d]} weight
     * into {@code qkv} viewed as {@code [b * s, 3d]} (each row q, k, v), then {@code attention_f32} reading q, k
     * and v in place (row stride 3d); the checks and messages are the composition's. Otherwise the composition:
     * three linears into thirds of {@code qkv}, then attention.
     */
    @Override
    public void selfAttention(Tensor x, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv,
                              Tensor lengths, int heads, Tensor qkv, Tensor out) {
        if (low(x)) {
            selfAttentionLow(x, wq, bq, wk, bk, wv, bv, lengths, heads, qkv, out);
            return;
        }
        ResidentWeights.Qkv fused = resident.selfAttention(wq, bq, wk, bk, wv, bv);
        if (fused == null) {
            TransformerComposites.selfAttention(this, x, wq, bq, wk, bk, wv, bv, lengths, heads, qkv, out);
            return;
        }
        Tensor[] thirds = TransformerComposites.qkvThirds(x, qkv);
        int t = x.dim(0) * x.dim(1);
        int d = x.dim(2);
        Tensor x2 = x.reshape(t, d);
        Tensor[] weights = {wq, wk, wv};
        Tensor[] biases = {bq, bk, bv};
        for (int i = 0; i < 3; i++) {   // what the composition's three linears check
            CudaChecks.matmul(x2, weights[i], true, thirds[i].reshape(t, d));
            if (biases[i] != null) {
                CudaChecks.shape("linear", "bias", biases[i], d);
            }
        }
        int[] bsd = CudaChecks.attention(thirds[0], thirds[1], thirds[2], heads, out);
        checkLengths("attention", lengths, bsd[0], bsd[1]);
        Tensor rows = qkv.view(0, t, 3 * d);
        context.run(() -> {
            GemmKernel.launchResident(launcher, precision, x2, fused.weight(), fused.bias(),
                    fused.bias() == null ? GemmKernel.Epilogue.NONE : GemmKernel.Epilogue.BIAS, rows, t, 3 * d, d);
            AttentionKernel.launchFused(launcher, rows, lengths, out, bsd[0], bsd[1], heads, d / heads);
        });
    }

    /**
     * bf16 {@code x}, {@code qkv} and {@code out}: the fused {@code [3d, d]} projection (declared, or prepared now) as
     * one tensor-core GEMM into {@code qkv} viewed as {@code [b * s, 3d]} (bf16), then flash attention reading it in
     * place and writing the bf16 context.
     */
    private void selfAttentionLow(Tensor x, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv,
                                  Tensor lengths, int heads, Tensor qkv, Tensor out) {
        String op = "selfAttention";
        int[] bsd = CudaChecks.floatSequence(op, "x", x);
        int b = bsd[0];
        int s = bsd[1];
        int d = bsd[2];
        int t = b * s;
        CudaChecks.dtype(op, "qkv", CudaChecks.device(op, "qkv", qkv), DType.BFLOAT16);
        CudaChecks.dtype(op, "out", CudaChecks.device(op, "out", out), DType.BFLOAT16);
        if (out.rank() != 3 || out.dim(0) != b || out.dim(1) != s || out.dim(2) != d) {
            throw new IllegalArgumentException(op + ": out expected [" + b + ", " + s + ", " + d + "], found " + out);
        }
        if (qkv.elementCount() < 3L * t * d) {
            throw new IllegalArgumentException(op + ": qkv holds " + qkv.elementCount() + " values, needs 3 * "
                    + t + " * " + d);
        }
        if (heads < 1 || d % heads != 0 || !FlashAttentionKernel.supports(d / heads)) {
            throw new IllegalArgumentException(op + ": bf16 activations need a head size of 32, 64 or 128 (dim " + d
                    + ", heads " + heads + ")");
        }
        for (Tensor w : new Tensor[] {wq, wk, wv}) {
            CudaChecks.shape(op, "weight", w, d, d);
        }
        checkLengths("attention", lengths, b, s);
        ResidentWeights.Qkv fused = resident.selfAttention(wq, bq, wk, bk, wv, bv);
        if (fused == null) {
            context.run(() -> resident.prepareSelfAttention(wq, bq, wk, bk, wv, bv));
            fused = resident.selfAttention(wq, bq, wk, bk, wv, bv);
        }
        if (fused == null) {
            throw new IllegalArgumentException(op + ": bf16 activations need projections the backend can keep fused"
                    + " (float32 [d, d] weights it allocated; declare them with prepareSelfAttention)");
        }
        ResidentWeights.Qkv f = fused;
        Tensor rows = qkv.view(0, t, 3 * d);
        context.run(() -> {
            GemmTcKernel.launch(launcher, x.reshape(t, d), f.weight(), f.bias() != null ? f.bias() : zeroBias(3 * d),
                    GemmKernel.Epilogue.BIAS, rows, t, 3 * d, d);
            FlashAttentionKernel.launch(launcher, rows, lengths, out.reshape(t, d), b, s, heads, d / heads);
        });
    }

    @Override
    public void meanPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = CudaChecks.pool("meanPool", hidden, out);
        checkLengths("meanPool", lengths, bsd[0], bsd[1]);
        context.run(() -> PoolingKernel.mean(launcher, hidden, lengths, out, bsd[0], bsd[1], bsd[2]));
    }

    @Override
    public void firstTokenPool(Tensor hidden, Tensor out) {
        int[] bsd = CudaChecks.pool("firstTokenPool", hidden, out);
        context.run(() -> PoolingKernel.first(launcher, hidden, out, bsd[0], bsd[1], bsd[2]));
    }

    @Override
    public void lastTokenPool(Tensor hidden, Tensor lengths, Tensor out) {
        int[] bsd = CudaChecks.pool("lastTokenPool", hidden, out);
        checkLengths("lastTokenPool", lengths, bsd[0], bsd[1]);
        context.run(() -> PoolingKernel.last(launcher, hidden, lengths, out, bsd[0], bsd[1], bsd[2]));
    }

    /**
     * Lengths in [1, seq]: from the range recorded when the host wrote them (no device read, so no host
     * synchronisation inside a forward pass); read back only when unknown or out of range, for the exact message.
     */
    private void checkLengths(String op, Tensor lengths, int batch, int seq) {
        CudaChecks.lengthsShape(op, lengths, batch);
        int[] r = memory.knownRange(lengths);
        if (r == null || r[0] < 1 || r[1] > seq) {
            CudaChecks.lengths(op, lengths, memory.downloadInts(lengths), batch, seq);
        }
    }
}
