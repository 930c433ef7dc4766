package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.OutOfDeviceMemoryException;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Offset bookkeeping for {@link DeviceMemoryPool}: best-fit over a free list kept sorted by offset, blocks aligned
 * to {@value #ALIGNMENT} bytes, neighbours coalesced on free. Pure Java (no CUDA), so it is unit-tested on any
 * machine. Thread-safe: tensors may be closed from any thread.
 *
 * <pre>{@code
 * BestFitAllocator a = new BestFitAllocator(1 << 20);
 * long off = a.allocate(4000);   // 4096 bytes reserved at offset 0
 * a.free(off);
 * }</pre>
 */
public final class BestFitAllocator {
    /** Block alignment: cuMemAlloc's own alignment, enough for 16-byte vector loads and WMMA tiles. */
    public static final long ALIGNMENT = 256;

    private final long capacity;
    private final TreeMap<Long, Long> free = new TreeMap<>();   // offset -> size
    private final Map<Long, Long> used = new HashMap<>();        // offset -> size
    private long usedBytes;

    /** A pool of {@code capacity} bytes (rounded down to the alignment). */
    public BestFitAllocator(long capacity) {
        if (capacity < ALIGNMENT) {
            throw new IllegalArgumentException("pool capacity " + capacity + " is below the " + ALIGNMENT + "-byte alignment");
        }
        this.capacity = capacity / ALIGNMENT * ALIGNMENT;
        free.put(0L, this.capacity);
    }

    /** Reserves at least {@code bytes} (at least one aligned block, so zero-size tensors get distinct offsets). */
    public synchronized long allocate(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative allocation: " + bytes + " bytes");
        }
        long size = Math.max(ALIGNMENT, (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
        Map.Entry<Long, Long> best = null;
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            if (e.getValue() >= size && (best == null || e.getValue() < best.getValue())) {
                best = e;
            }
        }
        if (best == null) {
            throw new OutOfDeviceMemoryException(bytes, capacity - usedBytes, largestFreeBlock(), capacity);
        }
        long offset = best.getKey();
        long blockSize = best.getValue();
        free.remove(offset);
        if (blockSize > size) {
            free.put(offset + size, blockSize - size);
        }
        used.put(offset, size);
        usedBytes += size;
        return offset;
    }

    /** Returns the block at {@code offset}; fails on an offset that is not allocated (double free). */
    public synchronized void free(long offset) {
        Long size = used.remove(offset);
        if (size == null) {
            throw new IllegalStateException("free of offset " + offset + ", which is not allocated (double free?)");
        }
        usedBytes -= size;
        long start = offset;
        long end = offset + size;
        Map.Entry<Long, Long> before = free.lowerEntry(offset);
        if (before != null && before.getKey() + before.getValue() == start) {
            start = before.getKey();
            free.remove(before.getKey());
        }
        Long after = free.remove(end);
        if (after != null) {
            end += after;
        }
        free.put(start, end - start);
    }

    public long capacity() {
        return capacity;
    }

    public synchronized long usedBytes() {
        return usedBytes;
    }

    public synchronized long freeBytes() {
        return capacity - usedBytes;
    }

    public synchronized long largestFreeBlock() {
        long max = 0;
        for (long s : free.values()) {
            max = Math.max(max, s);
        }
        return max;
    }

    /** Number of blocks currently allocated. */
    public synchronized int liveBlocks() {
        return used.size();
    }

    /** Number of separate free blocks (1 when nothing is allocated: everything coalesced). */
    public synchronized int freeBlocks() {
        return free.size();
    }
}
