package io.inflow.gpu.backend;

import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.backend.cpu.ReferenceCpuBackend;
import io.inflow.gpu.backend.cuda.CudaAvailability;
import io.inflow.gpu.backend.cuda.CudaBackend;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.backend.cuda.CudaUnavailableException;
import org.apache.arrow.memory.BufferAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates backends by kind. {@code CPU} is the fast CPU backend; the plain reference backend is
 * {@link #reference()}. {@code CUDA} is the CUDA backend configured by the {@code inflow.cuda.*} system properties
 * ({@link CudaBackendConfig}); it fails at start, saying what is missing and what to change, where no driver or
 * device is found. {@code AUTO} is CUDA when a usable device is present, else CPU.
 *
 * <p>{@code try (Backend b = Backends.create(BackendKind.AUTO, 2)) { ... }}
 */
public final class Backends {
    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    private Backends() {
    }

    /** A backend of {@code kind} with {@code threads} CPU kernel threads and its own allocator. */
    public static Backend create(BackendKind kind, int threads) {
        return create(kind, threads, null);
    }

    /**
     * As {@link #create(BackendKind, int)}, allocating host tensors from a child of {@code parent} (CPU backends;
     * the CUDA backend's tensors live in its device pool).
     */
    public static Backend create(BackendKind kind, int threads, BufferAllocator parent) {
        return switch (kind) {
            case CPU -> new FastCpuBackend(parent, threads);
            case CUDA -> cuda();
            case AUTO -> auto(parent, threads);
        };
    }

    /** The CUDA backend, or a {@link CudaUnavailableException} naming the setting to change. */
    public static Backend cuda() {
        try {
            return CudaBackend.create(CudaBackendConfig.fromSystemProperties());
        } catch (CudaUnavailableException e) {
            throw new CudaUnavailableException("inflow.compute.backend=CUDA but " + e.getMessage()
                    + ". Run on a host with an NVIDIA GPU of compute capability 8.0+ and an R580+ driver, or set"
                    + " inflow.compute.backend=CPU (or AUTO, which falls back to the CPU)", e);
        }
    }

    private static Backend auto(BufferAllocator parent, int threads) {
        CudaAvailability.Result probe = CudaAvailability.probe();
        if (probe.available()) {
            try {
                return CudaBackend.create(CudaBackendConfig.fromSystemProperties());
            } catch (CudaUnavailableException e) {
                LOG.warn("inflow.compute.backend=AUTO: a CUDA device is present but unusable ({}); using the CPU",
                        e.getMessage());
            }
        } else {
            LOG.info("inflow.compute.backend=AUTO: using the CPU ({})", probe.reason());
        }
        return new FastCpuBackend(parent, threads);
    }

    /** The single-threaded reference backend, the oracle for the others. */
    public static Backend reference() {
        return new ReferenceCpuBackend(null);
    }
}
