package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.RetrievalContractTest;
import io.inflow.gpu.testing.EmulatedDevice;

/**
 * The retrieval contract on the CUDA backend over the emulated device ({@link EmulatedDevice}: the {@code .cu} kernels
 * compiled for the host, a block's threads run as fibers): the same cases and tolerances as {@link CudaRetrievalContractTest}, in CI
 * without a GPU. It checks the kernels' indexing, layouts and barriers and the launchers' arguments, not nvcc's code.
 */
class EmulatedRetrievalContractTest extends RetrievalContractTest {
    @Override
    protected Backend create() {
        return EmulatedDevice.backendOrSkip();
    }
}
