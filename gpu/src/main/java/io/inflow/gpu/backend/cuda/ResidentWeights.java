package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.cuda.kernels.ElementwiseKernel;
import io.inflow.gpu.backend.cuda.kernels.GemmKernel;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The 16-bit device copies of Linear weights that one CUDA backend's GEMM reads directly: each declared weight is
 * rounded once ({@code round_bf16_f32} / {@code round_f16_f32}, the {@link GemmPrecision} of the backend) and
 * {@code gemm_*_f32_w16} reads the copy instead of rounding the float32 weight in every call. The rounding is the
 * one the per-call GEMM does (round to nearest even), so results are bit for bit those of the per-call path; the
 * copy is half the bytes a GEMM reads. A self-attention's three projections are kept as one fused {@code [3d, d]}
 * weight with a {@code [3d]} float32 bias, for one GEMM into the interleaved qkv buffer.
 *
 * <p>Copies are keyed by the identity of the float32 tensors (owning device tensors of this backend; views and
 * others are left to the per-call path) and freed when any of them is closed ({@link CudaMemory#onRelease}) or
 * when the backend closes. A declared weight must not change afterwards: a write into it is not seen by the copy.
 * The float32 weights stay where they are (downloads, other ops and the per-call path keep working).
 *
 * <pre>{@code
 * ResidentWeights r = new ResidentWeights(memory, launcher, GemmPrecision.BF16);
 * r.prepareLinear(w);                                  // once, at load
 * Tensor w16 = r.linear(w);                            // the 16-bit copy, or null when w was not declared
 * r.prepareSelfAttention(wq, bq, wk, bk, wv, bv);
 * ResidentWeights.Qkv f = r.selfAttention(wq, bq, wk, bk, wv, bv);   // fused [3d, d] weight and [3d] bias
 * r.close();
 * }</pre>
 */
final class ResidentWeights implements AutoCloseable {
    /** The fused projections of one self-attention: weight {@code [3d, d]} (16-bit), bias {@code [3d]} or null. */
    record Qkv(Tensor weight, Tensor bias, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv) {
        boolean matches(Tensor q, Tensor qb, Tensor k, Tensor kb, Tensor v, Tensor vb) {
            return wq == q && bq == qb && wk == k && bk == kb && wv == v && bv == vb;
        }

        void free() {
            weight.close();
            if (bias != null) {
                bias.close();
            }
        }
    }

    private final CudaMemory memory;
    private final KernelLauncher launcher;
    private final GemmPrecision precision;
    private final Map<Tensor, Tensor> linears = new IdentityHashMap<>();
    private final Map<Tensor, Qkv> attentions = new IdentityHashMap<>();
    private boolean closed;

    ResidentWeights(CudaMemory memory, KernelLauncher launcher, GemmPrecision precision) {
        this.memory = memory;
        this.launcher = launcher;
        this.precision = precision;
    }

    /** Keeps a 16-bit copy of each Linear weight ({@code [out, in]} float32); others are left to the per-call path. */
    synchronized void prepareLinear(Tensor weight) {
        if (closed || !residentable(weight) || weight.rank() != 2 || linears.containsKey(weight)) {
            return;
        }
        Tensor copy = rounded(weight, null, 0);
        linears.put(weight, copy);
        memory.onRelease(weight, () -> dropLinear(weight));
    }

    /** The 16-bit copy of {@code weight}, or null when it has none. */
    synchronized Tensor linear(Tensor weight) {
        return linears.get(weight);
    }

    /**
     * Builds the fused projection of one self-attention: the three {@code [d, d]} weights rounded into one
     * {@code [3d, d]} copy (q rows, then k, then v) and the biases concatenated into {@code [3d]} (zeros for a null
     * one; no bias when all are null). Does nothing for tensors it cannot keep, or shapes that do not fit together.
     */
    synchronized void prepareSelfAttention(Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv) {
        Tensor[] weights = {wq, wk, wv};
        Tensor[] biases = {bq, bk, bv};
        if (closed || attentions.containsKey(wq) || !fits(weights, biases)) {
            return;
        }
        int d = wq.dim(0);
        long dd = (long) d * d;
        Tensor weight = memory.allocate(DType.UINT8, Math.toIntExact(3 * dd * GemmPrecision.RESIDENT_BYTES));
        Tensor bias = null;
        try {
            for (int i = 0; i < 3; i++) {
                rounded(weights[i], weight, i * dd);
            }
            if (bq != null || bk != null || bv != null) {
                bias = memory.allocate(DType.FLOAT32, 3 * d);
                for (int i = 0; i < 3; i++) {
                    Tensor third = bias.view((long) i * d, d);
                    if (biases[i] == null) {
                        ElementwiseKernel.fill(launcher, third, 0f, d);
                    } else {
                        memory.copy(biases[i], third);
                    }
                }
            }
        } catch (RuntimeException e) {
            weight.close();
            if (bias != null) {
                bias.close();
            }
            throw e;
        }
        attentions.put(wq, new Qkv(weight, bias, wq, bq, wk, bk, wv, bv));
        for (Tensor t : new Tensor[] {wq, bq, wk, bk, wv, bv}) {
            if (t != null) {
                memory.onRelease(t, () -> dropAttention(wq));
            }
        }
    }

    /** The fused projection prepared for exactly these six tensors, or null. */
    synchronized Qkv selfAttention(Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv) {
        Qkv f = attentions.get(wq);
        return f != null && f.matches(wq, bq, wk, bk, wv, bv) ? f : null;
    }

    /** Copies held now: {linear weights, fused self-attention projections} (tests). */
    synchronized int[] counts() {
        return new int[] {linears.size(), attentions.size()};
    }

    /** Frees every copy; later declarations are ignored (the per-call path serves them). */
    @Override
    public synchronized void close() {
        closed = true;
        clear();
    }

    /** Frees every copy; declarations made later are served again (tests compare the two paths). */
    synchronized void clear() {
        linears.values().forEach(Tensor::close);
        linears.clear();
        attentions.values().forEach(Qkv::free);
        attentions.clear();
    }

    private synchronized void dropLinear(Tensor weight) {
        Tensor copy = linears.remove(weight);
        if (copy != null) {
            copy.close();
        }
    }

    private synchronized void dropAttention(Tensor wq) {
        Qkv f = attentions.remove(wq);
        if (f != null) {
            f.free();
        }
    }

    /** {@code weight} rounded into {@code into} at element {@code offset} (a new tensor when {@code into} is null). */
    private Tensor rounded(Tensor weight, Tensor into, long offset) {
        long n = weight.elementCount();
        int bytes = GemmPrecision.RESIDENT_BYTES;
        Tensor target = into != null ? into : memory.allocate(DType.UINT8, Math.toIntExact(n * bytes));
        try {
            GemmKernel.round(launcher, precision, weight, target.view(offset * bytes, Math.toIntExact(n * bytes)), n);
        } catch (RuntimeException e) {
            if (into == null) {
                target.close();
            }
            throw e;
        }
        return target;
    }

    private boolean fits(Tensor[] weights, Tensor[] biases) {
        int d = weights[0] == null || weights[0].rank() != 2 ? -1 : weights[0].dim(0);
        for (int i = 0; i < 3; i++) {
            Tensor w = weights[i];
            Tensor b = biases[i];
            if (!residentable(w) || w.rank() != 2 || w.dim(0) != d || w.dim(1) != d) {
                return false;
            }
            if (b != null && (!residentable(b) || b.elementCount() != d)) {
                return false;
            }
        }
        return d > 0;
    }

    /** A float32 tensor this backend allocated (not a view, not closed): the only kind whose release it sees. */
    private boolean residentable(Tensor t) {
        return t != null && !t.isClosed() && t.dtype() == DType.FLOAT32 && t.ownsMemory()
                && t.location() == Tensor.Location.DEVICE && memory.owns(t.address());
    }
}
