package io.inflow.operators.runtime;

import io.inflow.gpu.resources.ProcessResources;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.memory.RootAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one Arrow root allocator of a TaskManager process, bounded by {@code inflow.memory.arrow-max-bytes}
 * ({@link ArrowMemoryOptions}); every operator takes a child of it for its batches. The root is created by the first
 * operator that opens and closed, checking that nothing leaked, when the last child closes. Exceeding the bound is
 * a clear error ({@link #exhausted}) naming the key to change, not a JVM out-of-memory.
 *
 * <pre>{@code
 * try (ArrowMemory.Child memory = ArrowMemory.child("embed-text-0", 1L << 30)) {
 *     TokenBatch batch = new TokenBatch(memory.allocator(), 128, 64);
 *     ...
 * }
 * }</pre>
 */
public final class ArrowMemory {

    private static final Logger LOG = LoggerFactory.getLogger(ArrowMemory.class);
    /** The registry key of the process's root allocator. */
    private static final String KEY = "arrow root allocator";

    private ArrowMemory() {
    }

    /**
     * A child allocator of the process's root for one operator instance. The first call creates the root with
     * {@code limitBytes}; later calls with another limit share the existing root (the first limit holds, logged).
     */
    public static Child child(String name, long limitBytes) {
        ProcessResources.Lease<RootAllocator> root;
        try {
            root = ProcessResources.acquire(KEY, () -> {
                LOG.info("Arrow root allocator of this process: limit {} bytes ({})", limitBytes,
                        ArrowMemoryOptions.MAX_BYTES.key());
                return new RootAllocator(limitBytes);
            });
        } catch (Exception e) {
            throw new IllegalStateException("cannot create the Arrow root allocator", e);
        }
        long limit = root.get().getLimit();
        if (limitBytes != limit) {
            LOG.warn("{} asks for an Arrow limit of {} bytes; the process's root was created with {} and keeps it",
                    name, limitBytes, limit);
        }
        return new Child(root, root.get().newChildAllocator(name, 0, limit));
    }

    /** Bytes held by all operators of this process; 0 when no operator is open. */
    public static long allocatedBytes() {
        return ProcessResources.<RootAllocator>peek(KEY).map(RootAllocator::getAllocatedMemory).orElse(0L);
    }

    /**
     * The error to throw when an allocation hits the bound: says what was being allocated, what is in use, and
     * which keys to change.
     */
    public static IllegalStateException exhausted(String what, OutOfMemoryException e) {
        long limit = ProcessResources.<RootAllocator>peek(KEY).map(RootAllocator::getLimit).orElse(-1L);
        return new IllegalStateException("Arrow memory of this TaskManager is exhausted while allocating " + what
                + " (in use " + allocatedBytes() + " of " + limit + " bytes): raise "
                + ArrowMemoryOptions.MAX_BYTES.key() + ", or lower inflow.batch.max-in-flight /"
                + " inflow.batch.max-records / inflow.image.batch.max-pixel-bytes", e);
    }

    /** One operator's share of the root: close it when the operator closes (after freeing its batches). */
    public static final class Child implements AutoCloseable {
        private final ProcessResources.Lease<RootAllocator> root;
        private final BufferAllocator allocator;
        private boolean closed;

        private Child(ProcessResources.Lease<RootAllocator> root, BufferAllocator allocator) {
            this.root = root;
            this.allocator = allocator;
        }

        public BufferAllocator allocator() {
            return allocator;
        }

        /**
         * Closes the child, and the root with the last child.
         *
         * @throws IllegalStateException if the operator still holds Arrow buffers (a leak)
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                allocator.close(); // throws if a buffer of this operator leaked
            } finally {
                try {
                    root.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing the Arrow root allocator failed", e);
                }
            }
        }
    }
}
