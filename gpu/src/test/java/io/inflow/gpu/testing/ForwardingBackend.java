package io.inflow.gpu.testing;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

/**
 * A backend that forwards every operation the {@link Backend} interface declares abstract to another one; the
 * interface's default methods (fused or composite operations) are not forwarded, so they run through this
 * backend's own operations. Test decorators extend it and override what they change.
 *
 * <pre>{@code
 * Backend counting = new ForwardingBackend(Backends.create(BackendKind.CPU, 1)) {
 *     public Tensor allocate(DType d, int... shape) { allocations++; return super.allocate(d, shape); }
 * };
 * }</pre>
 */
public abstract class ForwardingBackend implements Backend {
    protected final Backend inner;

    protected ForwardingBackend(Backend inner) {
        this.inner = inner;
    }

    @Override public BackendKind kind() { return inner.kind(); }
    @Override public String name() { return inner.name(); }
    @Override public Tensor allocate(DType dtype, int... shape) { return inner.allocate(dtype, shape); }
    @Override public Tensor upload(float[] data, int... shape) { return inner.upload(data, shape); }
    @Override public Tensor upload(int[] data, int... shape) { return inner.upload(data, shape); }
    @Override public float[] download(Tensor t) { return inner.download(t); }
    @Override public void matmul(Tensor a, Tensor b, boolean transposeB, Tensor out) { inner.matmul(a, b, transposeB, out); }
    @Override public void addBias(Tensor x, Tensor bias) { inner.addBias(x, bias); }
    @Override public void add(Tensor a, Tensor b, Tensor out) { inner.add(a, b, out); }
    @Override public void fill(Tensor x, float value) { inner.fill(x, value); }
    @Override public void scaleAdd(Tensor acc, Tensor x, float alpha) { inner.scaleAdd(acc, x, alpha); }
    @Override public void layerNorm(Tensor x, Tensor r, Tensor g, Tensor b, float eps, Tensor out) { inner.layerNorm(x, r, g, b, eps, out); }
    @Override public void gelu(Tensor x, Tensor out) { inner.gelu(x, out); }
    @Override public void quickGelu(Tensor x, Tensor out) { inner.quickGelu(x, out); }
    @Override public void glu(Tensor x, GluGate gate, Tensor out) { inner.glu(x, gate, out); }
    @Override public void l2Normalize(Tensor x, Tensor out) { inner.l2Normalize(x, out); }
    @Override public void embed(Tensor ids, Tensor types, Tensor word, Tensor pos, Tensor type, Tensor out) { inner.embed(ids, types, word, pos, type, out); }
    @Override public void attention(Tensor q, Tensor k, Tensor v, Tensor lengths, int heads, Tensor out) { inner.attention(q, k, v, lengths, heads, out); }
    @Override public void meanPool(Tensor hidden, Tensor lengths, Tensor out) { inner.meanPool(hidden, lengths, out); }
    @Override public void firstTokenPool(Tensor hidden, Tensor out) { inner.firstTokenPool(hidden, out); }
    @Override public void lastTokenPool(Tensor hidden, Tensor lengths, Tensor out) { inner.lastTokenPool(hidden, lengths, out); }
    @Override public void preprocessImages(Tensor px, Tensor off, Tensor w, Tensor h, Tensor c, ImagePreprocessConfig cfg, Tensor out) { inner.preprocessImages(px, off, w, h, c, cfg, out); }
    @Override public void patchify(Tensor pixels, int patch, Tensor out) { inner.patchify(pixels, patch, out); }
    @Override public void close() { inner.close(); }
}
