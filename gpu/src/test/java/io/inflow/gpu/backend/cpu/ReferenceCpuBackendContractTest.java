package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendContractTest;

class ReferenceCpuBackendContractTest extends BackendContractTest {
    @Override
    protected Backend create() {
        return new ReferenceCpuBackend(null);
    }
}
