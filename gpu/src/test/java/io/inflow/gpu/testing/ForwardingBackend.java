package io.inflow.gpu.testing;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.backend.ImageOps;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Set;

/**
 * A backend that forwards its memory operations and its kernel families to another one. Test decorators extend it
 * and override what they change (memory calls here; a family by returning a decorated {@link TransformerOps}).
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
    @Override public Set<Family> families() { return inner.families(); }
    @Override public TransformerOps transformer() { return inner.transformer(); }
    @Override public ImageOps image() { return inner.image(); }
    @Override public Tensor allocate(DType dtype, int... shape) { return inner.allocate(dtype, shape); }
    @Override public Tensor upload(float[] data, int... shape) { return inner.upload(data, shape); }
    @Override public Tensor upload(int[] data, int... shape) { return inner.upload(data, shape); }
    @Override public float[] download(Tensor t) { return inner.download(t); }
    @Override public int[] downloadInts(Tensor t) { return inner.downloadInts(t); }
    @Override public void write(Tensor dst, int[] src) { inner.write(dst, src); }
    @Override public void copy(Tensor src, Tensor dst) { inner.copy(src, dst); }
    @Override public void close() { inner.close(); }
}
