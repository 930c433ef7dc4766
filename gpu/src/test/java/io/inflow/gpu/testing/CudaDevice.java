package io.inflow.gpu.testing;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.cuda.CudaAvailability;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import org.junit.jupiter.api.Assumptions;

/**
 * The CUDA backend for GPU tests: skips the test with the reason ("no CUDA device: ...") where no driver or device is
 * found, else creates the backend with the {@code inflow.cuda.*} system properties given to Maven (the GPU test kit's
 * debug switches, e.g. {@code -Dinflow.cuda.sync-after-launch=true}; see {@link CudaBackendConfig#fromSystemProperties}).
 *
 * <p>{@code Backend gpu = CudaDevice.backendOrSkip();}
 */
public final class CudaDevice {

    private CudaDevice() {
    }

    /** Skips the calling test unless a usable CUDA device is present. */
    public static void assumePresent() {
        CudaAvailability.Result probe = CudaAvailability.probe();
        Assumptions.assumeTrue(probe.available(), () -> "no CUDA device: " + probe.reason());
    }

    /** The settings of CUDA backends in tests: defaults, overridden by {@code -Dinflow.cuda.*}. */
    public static CudaBackendConfig config() {
        return CudaBackendConfig.fromSystemProperties();
    }

    /** A CUDA backend, or the calling test skipped with the reason. */
    public static Backend backendOrSkip() {
        assumePresent();
        return Backends.cuda(config());
    }
}
