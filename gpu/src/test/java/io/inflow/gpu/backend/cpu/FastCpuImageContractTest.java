package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.ImageContractTest;
import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.Interpolation;
import io.inflow.gpu.image.ResizeGeometry;

/**
 * The image contract on the fast CPU backend ({@code FastImagePreprocess}): identity sizes and NEAREST copy samples and
 * must be bit-identical to the reference; BILINEAR and BICUBIC resample in float32 and may differ by rounding only.
 */
class FastCpuImageContractTest extends ImageContractTest {
    /** sqrt(2 x 170) roundings (1000 -> 24 bicubic: ~170 taps a pass) of 0.5 ulp of sums <= 255 x 1.25 (bicubic's
     *  largest sum of |w|), x 1.25 via the second pass = 3.5e-4 sample units (largest seen: 1.1e-4). */
    static final double FAST_SAMPLE_TOLERANCE = 0.5 * Math.sqrt(2 * 170) * Math.ulp(255f * 1.25f) * 1.25;

    @Override
    protected Backend create() {
        return new FastCpuBackend(null, 2);
    }

    @Override
    protected double sampleTolerance(ImagePreprocessConfig config, DecodedImage image) {
        boolean copies = config.interpolation() == Interpolation.NEAREST
                || ResizeGeometry.of(config, image.width(), image.height()).isIdentity(image.width(), image.height());
        return copies ? 0 : FAST_SAMPLE_TOLERANCE;
    }
}
