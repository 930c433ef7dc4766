package io.inflow.gpu.backend.cpu;

import io.inflow.gpu.backend.Backend;

/** The fast CPU backend's quantized kernels against the reference, bit for bit (2 threads, so work is split). */
class FastCpuQuantizedContractTest extends io.inflow.gpu.quant.QuantizedContractTest {
    @Override
    protected Backend create() {
        return new FastCpuBackend(null, 2);
    }
}
