package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.ImageKernelContractTest;

/** The image kernels on the fast CPU backend: the reference's per-image code on 2 threads, so exact too. */
class FastCpuImageKernelTest extends ImageKernelContractTest {
    @Override
    protected Backend create() {
        return new FastCpuBackend(null, 2);
    }
}
