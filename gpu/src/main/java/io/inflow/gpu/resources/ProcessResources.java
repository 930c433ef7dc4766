package io.inflow.gpu.resources;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The one registry of what a TaskManager process shares between the operator instances (slots) it runs: encoders
 * with their weights, CUDA contexts, the metrics endpoint, the Arrow root allocator. Each resource is created by its
 * first user and closed when its last user closes its lease, so a process holds exactly what its running tasks need
 * and a finished job leaves nothing behind. Keys are compared with {@code equals} (records make good keys).
 *
 * <pre>{@code
 * try (ProcessResources.Lease<TextEncoder> enc = ProcessResources.acquire(spec, () -> TextEncoder.create(cfg))) {
 *     enc.get().encode(batch);
 * }   // closes the encoder if no other slot holds it
 * }</pre>
 */
public final class ProcessResources {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessResources.class);
    private static final Map<Object, Entry> RESOURCES = new LinkedHashMap<>();

    /** Creates a resource on first use. */
    @FunctionalInterface
    public interface Factory<T> {
        T create() throws Exception;
    }

    private static final class Entry {
        final AutoCloseable resource;
        int users;

        Entry(AutoCloseable resource) {
            this.resource = resource;
        }
    }

    private ProcessResources() {
    }

    /** A lease on the process's resource for {@code key}, created by {@code factory} when nobody holds one. */
    @SuppressWarnings("unchecked")
    public static synchronized <T extends AutoCloseable> Lease<T> acquire(Object key, Factory<T> factory)
            throws Exception {
        Entry e = RESOURCES.get(key);
        if (e == null) {
            long t0 = System.nanoTime();
            T created = factory.create();
            if (created == null) {
                throw new IllegalStateException("the factory of " + key + " returned null");
            }
            e = new Entry(created);
            RESOURCES.put(key, e);
            LOG.info("created shared {} in {} ms", key, (System.nanoTime() - t0) / 1_000_000);
        }
        e.users++;
        return new Lease<>(key, (T) e.resource);
    }

    /** The resource for {@code key} if someone holds it (without taking a lease). */
    @SuppressWarnings("unchecked")
    public static synchronized <T> Optional<T> peek(Object key) {
        Entry e = RESOURCES.get(key);
        return e == null ? Optional.empty() : Optional.of((T) e.resource);
    }

    /** Keys of the resources held now (tests check that a closed job leaves none). */
    public static synchronized Set<Object> held() {
        return Set.copyOf(RESOURCES.keySet());
    }

    private static void release(Object key) throws Exception {
        AutoCloseable toClose = null;
        synchronized (ProcessResources.class) {
            Entry e = RESOURCES.get(key);
            if (e != null && --e.users == 0) {
                RESOURCES.remove(key);
                toClose = e.resource;
            }
        }
        if (toClose != null) {
            toClose.close(); // outside the lock: closing may take a while (a device context, a server)
            LOG.info("closed shared {}", key);
        }
    }

    /** One user's hold on a shared resource; closing it twice is harmless. */
    public static final class Lease<T extends AutoCloseable> implements AutoCloseable {
        private final Object key;
        private final T resource;
        private boolean closed;

        private Lease(Object key, T resource) {
            this.key = key;
            this.resource = resource;
        }

        public T get() {
            if (closed) {
                throw new IllegalStateException("lease on " + key + " is closed");
            }
            return resource;
        }

        /** Gives the hold back; the last one closes the resource (its exception, if any, is thrown here). */
        @Override
        public void close() throws Exception {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            release(key);
        }
    }
}
