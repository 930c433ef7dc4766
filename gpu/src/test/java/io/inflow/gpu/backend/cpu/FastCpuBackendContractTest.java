package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendContractTest;

class FastCpuBackendContractTest extends BackendContractTest {
    @Override
    protected Backend create() {
        return new FastCpuBackend(null, 2);
    }
}
