package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.ClusteringContractTest;

/** The clustering contract on the reference CPU backend. */
class ReferenceClusteringContractTest extends ClusteringContractTest {

    @Override
    protected Backend create() {
        return new ReferenceCpuBackend(null);
    }
}
