package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.resources.ProcessResources;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one CUDA context of this process for a device, shared by every {@link CudaBackend}: the device ({@link DeviceApi};
 * the real driver makes its primary context current on each calling thread) and every kernel module, loaded when the
 * context is created. A module that does not load (a driver too old for the fatbins' PTX, a GPU older than sm_80)
 * fails the creation with {@link CudaUnavailableException}, so {@code AUTO} falls back to the CPU at start instead of
 * failing at the first launch. Kernels of different backends overlap on the device through their own streams.
 *
 * <pre>{@code
 * try (ProcessResources.Lease<CudaContext> ctx = CudaContext.acquire(0)) {   // shared per device ordinal
 *     String name = ctx.get().deviceName();
 * }                                                   // the last lease releases the device
 * }</pre>
 */
public final class CudaContext implements AutoCloseable {
    /** Lowest compute capability the kernels run on (BF16 WMMA); the fatbins hold sm_80 and sm_90 code. */
    static final int MIN_COMPUTE_CAPABILITY = 80;
    /** Oldest driver API the fatbins load on: nvcc 13.0's PTX 9.0 needs an R580 driver (CUDA 13.0). */
    static final int MIN_DRIVER_VERSION = 13000;
    static final String KERNEL_RESOURCES = "/io/inflow/gpu/kernels/";
    /** Every kernel module ({@code <name>.fatbin}), loaded when a context is created. */
    public static final List<String> KERNEL_MODULES = List.of("activations", "attention", "cluster", "elementwise",
            "embedding", "flash_attention", "gemm", "gemm_tc", "image", "layernorm", "maxsim", "pooling", "quant",
            "retrieval");

    private final DeviceApi api;
    private final int ordinal;
    private final Map<String, Object> modules = new HashMap<>();
    private final Map<String, Object> functions = new ConcurrentHashMap<>();

    private CudaContext(DeviceApi api, int ordinal) {
        this.api = api;
        this.ordinal = ordinal;
    }

    /** The registry key of a device's context ({@link ProcessResources}). */
    private record Device(int ordinal) {
        @Override
        public String toString() {
            return "CUDA context of device " + ordinal;
        }
    }

    /**
     * A lease on the process's context of device {@code ordinal} ({@link ProcessResources}), created on first use;
     * the last lease closed releases it. Fails with {@link CudaUnavailableException} (saying what was found and what to
     * change) without a driver, device, recent enough driver or GPU, or when a kernel module does not load.
     */
    public static ProcessResources.Lease<CudaContext> acquire(int ordinal) {
        CudaAvailability.Result probe = CudaAvailability.probe();
        if (!probe.available()) {
            throw new CudaUnavailableException(probe.reason());
        }
        if (ordinal < 0 || ordinal >= probe.deviceCount()) {
            throw new CudaUnavailableException("CUDA device " + ordinal + " does not exist (" + probe.deviceCount()
                    + " device(s) found); set inflow.cuda.device to a value in [0, " + probe.deviceCount() + ")");
        }
        if (probe.driverVersion() < MIN_DRIVER_VERSION) {
            throw new CudaUnavailableException("the CUDA driver supports API " + probe.driverVersion() / 1000 + "."
                    + probe.driverVersion() % 1000 / 10 + "; the kernels (nvcc 13 PTX) need " + MIN_DRIVER_VERSION / 1000
                    + ".0 or newer (an R580+ driver). Update the driver or use inflow.compute.backend=CPU");
        }
        try {
            return ProcessResources.acquire(new Device(ordinal), () -> open(JCudaDeviceApi.open(ordinal,
                    probe.driverVersion()), ordinal));
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new CudaUnavailableException("cannot create the CUDA context of device " + ordinal + ": " + e);
        }
    }

    /**
     * A context on another device implementation (the tests' emulated device), not shared through the registry;
     * closing it closes {@code api}.
     */
    public static CudaContext on(DeviceApi api) {
        return open(api, -1);
    }

    private static CudaContext open(DeviceApi api, int ordinal) {
        CudaContext ctx = new CudaContext(api, ordinal);
        try {
            DeviceApi.Info info = api.info();
            if (info.computeCapability() < MIN_COMPUTE_CAPABILITY) {
                throw new CudaUnavailableException("CUDA device " + ordinal + " (" + info.name()
                        + ") has compute capability " + info.computeCapability() / 10 + "."
                        + info.computeCapability() % 10 + "; the kernels need 8.0 or newer (BF16 tensor cores)."
                        + " Use inflow.compute.backend=CPU");
            }
            for (String module : KERNEL_MODULES) {
                try {
                    ctx.modules.put(module, api.loadModule(module, image(module)));
                } catch (RuntimeException e) {
                    throw new CudaUnavailableException("kernel module " + module + ".fatbin does not load on "
                            + info.name() + " (compute " + info.computeCapability() / 10 + "."
                            + info.computeCapability() % 10 + ", driver API " + info.driverVersion() + "): "
                            + e.getMessage() + ". Update the driver or use inflow.compute.backend=CPU");
                }
            }
            return ctx;
        } catch (RuntimeException e) {
            try {
                api.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static byte[] image(String module) {
        String resource = KERNEL_RESOURCES + module + ".fatbin";
        try (InputStream in = CudaContext.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("kernel module " + resource + " is not on the classpath; rebuild with"
                        + " gpu/src/main/cuda/build-kernels.sh");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read kernel module " + resource, e);
        }
    }

    /** Releases the device (the last lease calls it). */
    @Override
    public void close() {
        functions.clear();
        modules.clear();
        api.close();
    }

    /** Runs {@code work} on the calling thread (the device's context is made current by each call) and returns. */
    public <T> T call(Callable<T> work) {
        try {
            return work.call();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** As {@link #call}, without a result. */
    public void run(Runnable work) {
        work.run();
    }

    DeviceApi api() {
        return api;
    }

    /** The kernel {@code function} of module {@code module} (loaded at creation). */
    Object function(String module, String function) {
        return functions.computeIfAbsent(module + "/" + function, key -> {
            Object m = modules.get(module);
            if (m == null) {
                throw new IllegalStateException("no kernel module " + module + " (known: " + KERNEL_MODULES + ")");
            }
            return api.function(m, function);
        });
    }

    public int ordinal() {
        return ordinal;
    }

    public String deviceName() {
        return api.info().name();
    }

    /** Compute capability as major * 10 + minor (90 for H100). */
    public int computeCapability() {
        return api.info().computeCapability();
    }

    public int multiprocessors() {
        return api.info().multiprocessors();
    }

    public long totalMemory() {
        return api.info().totalMemory();
    }
}
