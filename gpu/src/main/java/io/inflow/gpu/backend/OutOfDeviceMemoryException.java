package io.inflow.gpu.backend;

/**
 * A backend's bounded memory pool cannot satisfy an allocation. Thrown by the CUDA backend's device-memory pool
 * (sized at start, never grown); {@link io.inflow.gpu.encoder.TextEncoder#encode} catches it, splits the batch in
 * halves and retries, so a batch too large for the pool is slower, never fatal.
 *
 * <pre>{@code
 * try {
 *     t = backend.allocate(DType.FLOAT32, rows, cols);
 * } catch (OutOfDeviceMemoryException e) {
 *     log.warn("needed {} bytes, {} free", e.requestedBytes(), e.freeBytes());
 * }
 * }</pre>
 */
public class OutOfDeviceMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long requestedBytes;
    private final long freeBytes;
    private final long largestFreeBlock;
    private final long poolBytes;

    public OutOfDeviceMemoryException(long requestedBytes, long freeBytes, long largestFreeBlock, long poolBytes) {
        super("device memory pool exhausted: requested " + requestedBytes + " bytes, " + freeBytes + " free (largest free block "
                + largestFreeBlock + ") in a pool of " + poolBytes + " bytes; use smaller batches or raise"
                + " inflow.cuda.pool-bytes");
        this.requestedBytes = requestedBytes;
        this.freeBytes = freeBytes;
        this.largestFreeBlock = largestFreeBlock;
        this.poolBytes = poolBytes;
    }

    /**
     * A tensor too large to index ({@code elements} beyond the kernels' 32-bit element index): the same recovery as an
     * exhausted pool (the encoder splits the batch), with its own message. Pool figures are -1 (not consulted).
     */
    public OutOfDeviceMemoryException(String what, long elements, long requestedBytes) {
        super(what + ": " + elements + " elements exceed the " + Integer.MAX_VALUE + " a tensor can index; use smaller"
                + " batches (the encoder splits this batch and retries)");
        this.requestedBytes = requestedBytes;
        this.freeBytes = -1;
        this.largestFreeBlock = -1;
        this.poolBytes = -1;
    }

    /** Bytes the failed allocation asked for (before alignment). */
    public long requestedBytes() {
        return requestedBytes;
    }

    /** Bytes free in the pool when it failed (possibly fragmented: see {@link #largestFreeBlock()}). */
    public long freeBytes() {
        return freeBytes;
    }

    public long largestFreeBlock() {
        return largestFreeBlock;
    }

    public long poolBytes() {
        return poolBytes;
    }
}
