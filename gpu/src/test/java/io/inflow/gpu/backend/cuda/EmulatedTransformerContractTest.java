package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.TransformerContractTest;
import io.inflow.gpu.testing.EmulatedDevice;

/**
 * The transformer contract on the CUDA backend over the emulated device ({@link EmulatedDevice}: the {@code .cu} kernels
 * compiled for the host, a block's threads run as fibers): the same cases and tolerances as {@link CudaTransformerContractTest}, in CI
 * without a GPU. It checks the kernels' indexing, layouts and barriers and the launchers' arguments, not nvcc's code.
 */
class EmulatedTransformerContractTest extends TransformerContractTest {
    @Override
    protected Backend create() {
        return EmulatedDevice.backendOrSkip();
    }

    @Override
    protected MatmulTolerance matmulTolerance() {
        return MatmulTolerance.BF16;
    }
}
