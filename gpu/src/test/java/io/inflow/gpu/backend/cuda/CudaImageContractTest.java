package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.ImageContractTest;
import io.inflow.gpu.testing.CudaDevice;
import org.junit.jupiter.api.Tag;

/**
 * The image contract on CUDA ({@code image.cu}); skipped with the reason ("no CUDA device: ...") where no driver or
 * device is found. Run with {@code -Dinflow.cuda.sync-after-launch=true} to see a kernel fault at its launch.
 */
@Tag("gpu")
class CudaImageContractTest extends ImageContractTest {
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
        return CudaDevice.backendOrSkip();
    }

    @Override
    protected double sampleTolerance() {
        return CUDA_SAMPLE_TOLERANCE;
    }
}
