package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;
import io.inflow.operators.runtime.ArrowMemory;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Collecting rows, on the task thread: one open batch per bucket, a pool of cleared batches per bucket to reuse, and
 * every Arrow batch ever allocated (so {@link #freeAll()} can release them whatever state they are in: open,
 * computing, or waiting in the mailbox).
 *
 * <pre>{@code
 * OpenBatch<IN, B> b = collector.open(bucket);          // the bucket's open batch (from the pool or new)
 * OpenBatch<IN, B> full = collector.take(bucket);       // hand it over; the bucket has no open batch now
 * collector.recycle(full);                              // after emission: cleared, back to the pool
 * }</pre>
 */
final class BatchCollector<IN, B extends RowBatch> {

    private final BatchCompute<IN, B, ?, ?> compute;
    private final BufferAllocator allocator;
    private final String owner;
    private final OpenBatch<IN, B>[] open;
    private final ArrayDeque<OpenBatch<IN, B>>[] pool;
    private final List<B> allocated = new ArrayList<>();

    @SuppressWarnings("unchecked")
    BatchCollector(BatchCompute<IN, B, ?, ?> compute, BufferAllocator allocator, String owner) {
        this.compute = compute;
        this.allocator = allocator;
        this.owner = owner;
        int buckets = compute.bucketCount();
        this.open = new OpenBatch[buckets];
        this.pool = new ArrayDeque[buckets];
        for (int i = 0; i < buckets; i++) {
            pool[i] = new ArrayDeque<>();
        }
    }

    int buckets() {
        return open.length;
    }

    /** The bucket's open batch, or null. */
    OpenBatch<IN, B> peek(int bucket) {
        return open[bucket];
    }

    /** The bucket's open batch, taking one from the pool (or allocating one) when it has none. */
    OpenBatch<IN, B> open(int bucket) {
        OpenBatch<IN, B> b = open[bucket];
        if (b == null) {
            b = pool[bucket].poll();
            if (b == null) {
                b = new OpenBatch<>(bucket, allocate(bucket));
            }
            open[bucket] = b;
        }
        return b;
    }

    /** Removes and returns the bucket's open batch (null when it has none or it is empty; an empty one is pooled). */
    OpenBatch<IN, B> take(int bucket) {
        OpenBatch<IN, B> b = open[bucket];
        open[bucket] = null;
        if (b != null && b.isEmpty()) {
            pool[bucket].push(b);
            return null;
        }
        return b;
    }

    /** Clears a batch that left compute and returns it to its bucket's pool. */
    void recycle(OpenBatch<IN, B> batch) {
        batch.clear();
        pool[batch.bucket()].push(batch);
    }

    /** Arrival number of the oldest row in an open batch, {@code Long.MAX_VALUE} when none. */
    long oldestSeq() {
        long oldest = Long.MAX_VALUE;
        for (OpenBatch<IN, B> b : open) {
            if (b != null) {
                oldest = Math.min(oldest, b.firstSeq());
            }
        }
        return oldest;
    }

    /** The open batches with rows, for checkpoints. */
    List<OpenBatch<IN, B>> openBatches() {
        List<OpenBatch<IN, B>> out = new ArrayList<>();
        for (OpenBatch<IN, B> b : open) {
            if (b != null && !b.isEmpty()) {
                out.add(b);
            }
        }
        return out;
    }

    private B allocate(int bucket) {
        B b;
        try {
            b = compute.newBatch(allocator, bucket);
        } catch (OutOfMemoryException e) {
            throw ArrowMemory.exhausted("a batch of bucket " + bucket + " for " + owner, e);
        }
        allocated.add(b);
        return b;
    }

    /** Frees every batch this collector allocated; call only once no thread uses them any more. */
    void freeAll() {
        for (B b : allocated) {
            b.close();
        }
        allocated.clear();
    }
}
