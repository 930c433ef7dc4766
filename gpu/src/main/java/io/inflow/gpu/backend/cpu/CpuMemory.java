package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.TensorMemory;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * Off-heap host memory for CPU tensors, drawn from an Arrow allocator so that leaks are caught: closing
 * this (and so the backend) fails when a tensor it allocated is still open. The memory of both CPU backends.
 *
 * <p>{@code try (CpuMemory mem = new CpuMemory(null)) { Tensor t = mem.allocate(DType.FLOAT32, 4, 4); t.close(); }}
 */
public final class CpuMemory implements TensorMemory, AutoCloseable {
    private final BufferAllocator allocator;

    /** Memory from a child of {@code parent}, or from an own root allocator when {@code parent} is null. */
    public CpuMemory(BufferAllocator parent) {
        this.allocator = parent == null
                ? new RootAllocator()
                : parent.newChildAllocator("inflow-cpu-backend", 0, parent.getLimit());
    }

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        long bytes = Tensor.count(shape) * dtype.byteSize();
        ArrowBuf buf = allocator.buffer(bytes);
        try {
            return Tensor.owning(buf.memoryAddress(), buf.capacity(), Tensor.Location.HOST, buf, dtype, shape);
        } catch (RuntimeException e) {
            buf.close();
            throw e;
        }
    }

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

    @Override
    public float[] download(Tensor t) {
        return CpuChecks.host(t).toFloatArray();
    }

    @Override
    public void write(Tensor dst, int[] src) {
        dst.copyFrom(src);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        dst.copyFrom(src);
    }

    /** Bytes currently held by open tensors. */
    public long allocatedBytes() {
        return allocator.getAllocatedMemory();
    }

    @Override
    public void close() {
        allocator.close();
    }
}
