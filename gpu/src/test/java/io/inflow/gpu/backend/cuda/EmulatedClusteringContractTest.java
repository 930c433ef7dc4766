package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.ClusteringContractTest;
import io.inflow.gpu.testing.EmulatedDevice;

/**
 * The clustering contract on the CUDA backend over the emulated device ({@link EmulatedDevice}: the {@code .cu} kernels
 * compiled for the host, a block's threads run as fibers): the same cases and tolerances as {@link CudaClusteringContractTest}, in CI
 * without a GPU. It checks the kernels' indexing, layouts and barriers and the launchers' arguments, not nvcc's code.
 */
class EmulatedClusteringContractTest extends ClusteringContractTest {
    @Override
    protected Backend create() {
        return EmulatedDevice.backendOrSkip();
    }

    /**
     * 1,000 rather than 3,000: the emulator runs every thread of the candidate search as a fiber, O(n^2) (161 s of
     * CI at 3,000). 1,000 points take the same kernel paths: one chunk either way ({@code CHUNK_ROWS} = 4,096),
     * several query tiles and candidate slices, the grid of ties and its duplicates. The real GPU runs 3,000.
     */
    @Override
    protected int manyPoints() {
        return 1000;
    }
}
