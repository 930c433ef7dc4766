package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.ClusteringContractTest;

/** The clustering contract on the fast CPU backend. */
class FastCpuClusteringContractTest extends ClusteringContractTest {

    @Override
    protected Backend create() {
        return new FastCpuBackend(null, 2);
    }
}
