package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.TransformerContractTest;
import io.inflow.gpu.testing.CudaDevice;
import org.junit.jupiter.api.Tag;

/**
 * The transformer contract on CUDA (BF16 GEMM tolerance); skipped with the reason ("no CUDA device: ...") where no
 * driver or device is found. Run with {@code -Dinflow.cuda.sync-after-launch=true} to see a kernel fault at its launch.
 */
@Tag("gpu")
class CudaTransformerContractTest extends TransformerContractTest {
    @Override
    protected Backend create() {
        return CudaDevice.backendOrSkip();
    }

    @Override
    protected MatmulTolerance matmulTolerance() {
        return MatmulTolerance.BF16;
    }
}
