package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.ImageKernelContractTest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;

/**
 * The image kernels on CUDA ({@code image.cu}); skipped with the reason ("no CUDA device: ...") where no driver or
 * device is found. Run with {@code -Dinflow.cuda.sync-after-launch=true} to see a kernel fault at its launch.
 */
@Tag("gpu")
class CudaImageKernelTest extends ImageKernelContractTest {
    /**
     * {@code preprocess_u8_f32} repeats the reference's double-precision operations in the same order with
     * round-to-nearest intrinsics (no FMA contraction), so it is expected to be exact; 1e-3 of an 8-bit step
     * leaves room for a last-bit difference in a device math routine ({@code fabs}, {@code rint}, int/double
     * conversions), which moves a float sample of 0..255 by a few ulps (about 3e-5), while any wrong tap, weight or
     * crop offset shows up as whole fractions of a step.
     */
    static final double CUDA_SAMPLE_TOLERANCE = 1e-3;

    @Override
    protected Backend create() {
        CudaAvailability.Result probe = CudaAvailability.probe();
        Assumptions.assumeTrue(probe.available(), () -> "no CUDA device: " + probe.reason());
        return Backends.create(BackendKind.CUDA, 1);
    }

    @Override
    protected double sampleTolerance() {
        return CUDA_SAMPLE_TOLERANCE;
    }
}
