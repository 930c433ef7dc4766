package io.inflow.gpu.quant;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cpu.ReferenceCpuBackend;

/**
 * The contract run with the reference on both sides: a check of the contract itself (it must hold trivially and
 * every case must run, so a case that throws is caught here rather than blamed on a faster backend).
 */
class ReferenceQuantizedContractTest extends QuantizedContractTest {
    @Override
    protected Backend create() {
        return new ReferenceCpuBackend(null);
    }
}
