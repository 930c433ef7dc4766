package io.inflow.gpu.encoder;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.OutOfDeviceMemoryException;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.ForwardingBackend;

/**
 * Test-only backend: a CPU backend whose {@link #allocate} throws the device pool's
 * {@link OutOfDeviceMemoryException} for any single allocation above {@link #limitBytes}, so the encoder's
 * split-and-retry runs without a GPU. The limit starts unlimited (weights load normally); set it afterwards.
 */
final class OomInjectingBackend extends ForwardingBackend {
    volatile long limitBytes = Long.MAX_VALUE;
    int refusals;

    OomInjectingBackend(Backend cpu) {
        super(cpu);
    }

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        long bytes = Tensor.count(shape) * dtype.byteSize();
        if (bytes > limitBytes) {
            refusals++;
            throw new OutOfDeviceMemoryException(bytes, limitBytes, limitBytes, limitBytes);
        }
        return inner.allocate(dtype, shape);
    }

    @Override
    public String name() {
        return "oom-injecting(" + inner.name() + ")";
    }

    /** Uploads go through {@link #allocate}, so they hit the limit too. */
    @Override
    public Tensor upload(float[] data, int... shape) {
        Tensor t = allocate(DType.FLOAT32, shape);
        t.copyFrom(data);
        return t;
    }

    @Override
    public Tensor upload(int[] data, int... shape) {
        Tensor t = allocate(DType.INT32, shape);
        t.copyFrom(data);
        return t;
    }
}
