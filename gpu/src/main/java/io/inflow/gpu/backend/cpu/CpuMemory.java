package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * Off-heap host memory for CPU tensors, drawn from an Arrow allocator so that leaks are caught: closing
 * this (and so the backend) fails when a tensor it allocated is still open.
 *
 * <p>{@code try (CpuMemory mem = new CpuMemory(null)) { Tensor t = mem.allocate(DType.FLOAT32, 4, 4); t.close(); }}
 */
public final class CpuMemory implements AutoCloseable {
    private final BufferAllocator allocator;

    /** Memory from a child of {@code parent}, or from an own root allocator when {@code parent} is null. */
    public CpuMemory(BufferAllocator parent) {
        this.allocator = parent == null
                ? new RootAllocator()
                : parent.newChildAllocator("inflow-cpu-backend", 0, parent.getLimit());
    }

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

    /** Bytes currently held by open tensors. */
    public long allocatedBytes() {
        return allocator.getAllocatedMemory();
    }

    @Override
    public void close() {
        allocator.close();
    }
}
