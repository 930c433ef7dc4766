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
 * {@link #reference()}. {@code CUDA} is the CUDA backend with the given {@link CudaBackendConfig} (the defaults when
 * none is given; deployments set the {@code inflow.cuda.*} keys of Flink's configuration, which the operators pass
 * down); it fails at start, saying what is missing and what to change, where no driver or device is found.
 * {@code AUTO} is CUDA when a usable device is present, else CPU.
 *
 * <p>{@code try (Backend b = Backends.create(BackendKind.AUTO, 2, null, CudaBackendConfig.defaults())) { ... }}
 */
public final class Backends {
    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    private Backends() {
    }

    /** A backend of {@code kind} with {@code threads} CPU kernel threads, its own allocator and default CUDA settings. */
    public static Backend create(BackendKind kind, int threads) {
        return create(kind, threads, null, CudaBackendConfig.defaults());
    }

    /**
     * As {@link #create(BackendKind, int)}, allocating host tensors from a child of {@code parent} (CPU backends;
     * the CUDA backend's tensors live in its device pool).
     */
    public static Backend create(BackendKind kind, int threads, BufferAllocator parent) {
        return create(kind, threads, parent, CudaBackendConfig.defaults());
    }

    /**
     * A backend of {@code kind} with {@code threads} CPU kernel threads, allocating host tensors from a child of
     * {@code parent} (CPU backends; null: an own allocator; the CUDA backend's tensors live in its device pool), and
     * {@code cuda} as the CUDA backend's settings where CUDA is chosen.
     */
    public static Backend create(BackendKind kind, int threads, BufferAllocator parent, CudaBackendConfig cuda) {
        return switch (kind) {
            case CPU -> new FastCpuBackend(parent, threads);
            case CUDA -> cuda(cuda);
            case AUTO -> auto(parent, threads, cuda);
        };
    }

    /** The CUDA backend, or a {@link CudaUnavailableException} naming the setting to change. */
    public static Backend cuda(CudaBackendConfig config) {
        try {
            return CudaBackend.create(config);
        } catch (CudaUnavailableException e) {
            throw new CudaUnavailableException("inflow.compute.backend=CUDA but " + e.getMessage()
                    + ". Run on a host with an NVIDIA GPU of compute capability 8.0+ and an R580+ driver, or set"
                    + " inflow.compute.backend=CPU (or AUTO, which falls back to the CPU)", e);
        }
    }

    private static Backend auto(BufferAllocator parent, int threads, CudaBackendConfig cuda) {
        CudaAvailability.Result probe = CudaAvailability.probe();
        if (probe.available()) {
            try {
                return CudaBackend.create(cuda);
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
