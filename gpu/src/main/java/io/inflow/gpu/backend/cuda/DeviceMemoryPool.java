package io.inflow.gpu.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuPointerGetAttribute;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUpointer_attribute;

/**
 * The bounded device memory of one {@link CudaBackend}: a single {@code cuMemAlloc} made at start, carved by a
 * {@link BestFitAllocator}. Allocation beyond the pool throws {@link io.inflow.gpu.backend.OutOfDeviceMemoryException}
 * naming the requested and free bytes; it never grows. Device addresses are plain {@code long}s (what a
 * {@link io.inflow.gpu.tensor.Tensor} stores); {@link #pointer} turns one back into a {@link CUdeviceptr} for copies.
 * Create and close on the context thread.
 *
 * <p>{@code long addr = pool.allocate(bytes); ... pool.free(addr);}
 */
final class DeviceMemoryPool implements AutoCloseable {
    private final CUdeviceptr base = new CUdeviceptr();
    private final long baseAddress;
    private final BestFitAllocator allocator;

    DeviceMemoryPool(long bytes) {
        CudaCheck.check(cuMemAlloc(base, bytes), "cuMemAlloc", "-", "device memory pool of " + bytes + " bytes");
        long[] address = {0};
        int rc = cuPointerGetAttribute(Pointer.to(address), CUpointer_attribute.CU_POINTER_ATTRIBUTE_DEVICE_POINTER, base);
        if (rc != 0) {
            cuMemFree(base);
            CudaCheck.check(rc, "cuPointerGetAttribute(DEVICE_POINTER)", "-", "pool base");
        }
        this.baseAddress = address[0];
        this.allocator = new BestFitAllocator(bytes);
    }

    /** Device address of a new block of at least {@code bytes}. */
    long allocate(long bytes) {
        return baseAddress + allocator.allocate(bytes);
    }

    /** Returns the block starting at device address {@code address}. Thread-safe. */
    void free(long address) {
        allocator.free(address - baseAddress);
    }

    /** A driver pointer to {@code address}, which must lie in this pool with {@code bytes} after it. */
    CUdeviceptr pointer(long address, long bytes) {
        long offset = address - baseAddress;
        if (offset < 0 || offset + bytes > allocator.capacity()) {
            throw new IllegalArgumentException("device address 0x" + Long.toHexString(address) + " (+" + bytes
                    + " bytes) is not in this backend's pool: tensors cannot move between CUDA backends");
        }
        return base.withByteOffset(offset);
    }

    boolean contains(long address) {
        long offset = address - baseAddress;
        return offset >= 0 && offset < allocator.capacity();
    }

    BestFitAllocator allocator() {
        return allocator;
    }

    @Override
    public void close() {
        CudaCheck.check(cuMemFree(base), "cuMemFree", "-", "device memory pool of " + allocator.capacity() + " bytes");
    }
}
