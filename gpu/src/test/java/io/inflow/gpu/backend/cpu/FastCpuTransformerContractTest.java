package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.TransformerContractTest;

class FastCpuTransformerContractTest extends TransformerContractTest {
    @Override
    protected Backend create() {
        return new FastCpuBackend(null, 2);
    }
}
