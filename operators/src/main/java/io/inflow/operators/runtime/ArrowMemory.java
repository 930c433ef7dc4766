package io.inflow.operators.runtime;

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

    private static RootAllocator root;
    private static long rootLimit;
    private static int children;

    private ArrowMemory() {
    }

    /**
     * A child allocator of the process's root for one operator instance. The first call creates the root with
     * {@code limitBytes}; later calls with another limit share the existing root (the first limit holds, logged).
     */
    public static synchronized Child child(String name, long limitBytes) {
        if (root == null) {
            root = new RootAllocator(limitBytes);
            rootLimit = limitBytes;
            LOG.info("Arrow root allocator of this process: limit {} bytes ({})", limitBytes,
                    ArrowMemoryOptions.MAX_BYTES.key());
        } else if (limitBytes != rootLimit) {
            LOG.warn("{} asks for an Arrow limit of {} bytes; the process's root was created with {} and keeps it",
                    name, limitBytes, rootLimit);
        }
        children++;
        return new Child(root.newChildAllocator(name, 0, rootLimit));
    }

    /** Bytes held by all operators of this process; 0 when no operator is open. */
    public static synchronized long allocatedBytes() {
        return root == null ? 0 : root.getAllocatedMemory();
    }

    private static synchronized void release(BufferAllocator allocator) {
        try {
            allocator.close(); // throws if a buffer of this operator leaked
        } finally {
            if (--children == 0) {
                RootAllocator r = root;
                root = null;
                r.close();
            }
        }
    }

    /**
     * The error to throw when an allocation hits the bound: says what was being allocated, what is in use, and
     * which keys to change.
     */
    public static IllegalStateException exhausted(String what, OutOfMemoryException e) {
        return new IllegalStateException("Arrow memory of this TaskManager is exhausted while allocating " + what
                + " (in use " + allocatedBytes() + " of " + rootLimit + " bytes): raise "
                + ArrowMemoryOptions.MAX_BYTES.key() + ", or lower inflow.batch.max-in-flight /"
                + " inflow.batch.max-records / inflow.image.batch.max-pixel-bytes", e);
    }

    /** One operator's share of the root: close it when the operator closes (after freeing its batches). */
    public static final class Child implements AutoCloseable {
        private final BufferAllocator allocator;
        private boolean closed;

        private Child(BufferAllocator allocator) {
            this.allocator = allocator;
        }

        public BufferAllocator allocator() {
            return allocator;
        }

        /**
         * Closes the child.
         *
         * @throws IllegalStateException if the operator still holds Arrow buffers (a leak)
         */
        @Override
        public void close() {
            if (!closed) {
                closed = true;
                release(allocator);
            }
        }
    }
}
