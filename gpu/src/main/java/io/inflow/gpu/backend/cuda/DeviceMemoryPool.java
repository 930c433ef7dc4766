package io.inflow.gpu.backend.cuda;

/**
 * The bounded device memory of one {@link CudaBackend}: a single allocation made at start, carved by a
 * {@link BestFitAllocator}. Allocation beyond the pool throws {@link io.inflow.gpu.backend.OutOfDeviceMemoryException}
 * naming the requested and free bytes; it never grows. Device addresses are plain {@code long}s (what a
 * {@link io.inflow.gpu.tensor.Tensor} stores); {@link #checked} checks that one lies in this pool.
 *
 * <p>{@code long addr = pool.allocate(bytes); ... pool.free(addr);}
 */
final class DeviceMemoryPool implements AutoCloseable {
    private final DeviceApi api;
    private final long baseAddress;
    private final BestFitAllocator allocator;

    DeviceMemoryPool(DeviceApi api, long bytes) {
        this.api = api;
        this.baseAddress = api.allocate(bytes);
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

    /** {@code address}, which must lie in this pool with {@code bytes} after it. */
    long checked(long address, long bytes) {
        long offset = address - baseAddress;
        if (offset < 0 || offset + bytes > allocator.capacity()) {
            throw new IllegalArgumentException("device address 0x" + Long.toHexString(address) + " (+" + bytes
                    + " bytes) is not in this backend's pool: tensors cannot move between CUDA backends");
        }
        return address;
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
        api.free(baseAddress);
    }
}
