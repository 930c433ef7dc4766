package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.TransformerContractTest;

class ReferenceCpuTransformerContractTest extends TransformerContractTest {
    @Override
    protected Backend create() {
        return new ReferenceCpuBackend(null);
    }
}
