package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.ImageKernelContractTest;

/**
 * The image kernels on the fast CPU backend ({@code FastImagePreprocess}): identity sizes and NEAREST are exact,
 * BILINEAR and BICUBIC resample in float32 and differ from the double-precision reference by rounding only.
 */
class FastCpuImageKernelTest extends ImageKernelContractTest {
    /** Provisional: 16 ulps of 255 times the largest 2-D sum of |weights| (bicubic: 1.25 per axis). */
    static final double FAST_SAMPLE_TOLERANCE = 16 * Math.ulp(255f) * 1.25 * 1.25;

    @Override
    protected Backend create() {
        return new FastCpuBackend(null, 2);
    }

    @Override
    protected double sampleTolerance() {
        return FAST_SAMPLE_TOLERANCE;
    }
}
