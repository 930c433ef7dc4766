package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.TransformerContractTest;
import io.inflow.gpu.testing.CudaDevice;
import org.junit.jupiter.api.Tag;

/**
 * The transformer contract on CUDA with the FP16 GEMM ({@code gemm_f16_f32}, {@code inflow.cuda.gemm-precision=FP16})
 * at the FP16 matmul tolerance; skipped with the reason where no device is found.
 */
@Tag("gpu")
class CudaFp16TransformerContractTest extends TransformerContractTest {
    @Override
    protected Backend create() {
        CudaDevice.assumePresent();
        return Backends.cuda(CudaBackendConfig.builder().gemmPrecision(GemmPrecision.FP16).build());
    }

    @Override
    protected MatmulTolerance matmulTolerance() {
        return MatmulTolerance.FP16;
    }
}
