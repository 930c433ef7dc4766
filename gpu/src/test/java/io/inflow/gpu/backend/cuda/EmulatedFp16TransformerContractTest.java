package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.TransformerContractTest;
import io.inflow.gpu.testing.EmulatedDevice;

/** The transformer contract with the FP16 GEMM on the emulated device (see {@link EmulatedTransformerContractTest}). */
class EmulatedFp16TransformerContractTest extends TransformerContractTest {
    @Override
    protected Backend create() {
        return EmulatedDevice.backendOrSkip(GemmPrecision.FP16);
    }

    @Override
    protected MatmulTolerance matmulTolerance() {
        return MatmulTolerance.FP16;
    }
}
