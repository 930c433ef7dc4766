package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.ImageContractTest;

/** The image contract on the CPU reference backend: exact (it runs {@code ImagePreprocessor} itself). */
class ReferenceCpuImageContractTest extends ImageContractTest {
    @Override
    protected Backend create() {
        return new ReferenceCpuBackend(null);
    }
}
