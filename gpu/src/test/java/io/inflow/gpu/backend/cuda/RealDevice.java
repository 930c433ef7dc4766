package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.testing.CudaDevice;

/**
 * The real driver as a {@link DeviceApi} for the {@code gpu}-tagged twins of the emulated kernel tests (device 0), or
 * the calling test skipped with the reason ("no CUDA device: ...").
 *
 * <p>{@code try (var c = new TensorCoreGemmCase(RealDevice.openOrSkip())) { ... }}
 */
final class RealDevice {
    private RealDevice() {
    }

    static DeviceApi openOrSkip() {
        CudaDevice.assumePresent();
        return JCudaDeviceApi.open(0, CudaAvailability.probe().driverVersion());
    }
}
