package io.inflow.gpu.backend;

import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.backend.cpu.ReferenceCpuBackend;
import org.apache.arrow.memory.BufferAllocator;

/**
 * Creates backends by kind. {@code CPU} is the fast CPU backend; the plain reference backend is
 * {@link #reference()}. {@code AUTO} resolves to CPU until the CUDA backend exists; {@code CUDA} fails
 * with a message saying so.
 *
 * <p>{@code try (Backend b = Backends.create(BackendKind.AUTO, 2)) { ... }}
 */
public final class Backends {
    private Backends() {
    }

    /** A backend of {@code kind} with {@code threads} CPU kernel threads and its own allocator. */
    public static Backend create(BackendKind kind, int threads) {
        return create(kind, threads, null);
    }

    /** As {@link #create(BackendKind, int)}, allocating host tensors from a child of {@code parent}. */
    public static Backend create(BackendKind kind, int threads, BufferAllocator parent) {
        return switch (kind) {
            case AUTO, CPU -> new FastCpuBackend(parent, threads);
            case CUDA -> throw new UnsupportedOperationException(
                    "the CUDA backend is not implemented yet (it arrives in a later issue); use CPU or AUTO");
        };
    }

    /** The single-threaded reference backend, the oracle for the others. */
    public static Backend reference() {
        return new ReferenceCpuBackend(null);
    }
}
