package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.ImageKernelContractTest;

/** The image kernels on the CPU reference backend: exact (it runs {@code ImagePreprocessor} itself). */
class ReferenceCpuImageKernelTest extends ImageKernelContractTest {
    @Override
    protected Backend create() {
        return new ReferenceCpuBackend(null);
    }
}
