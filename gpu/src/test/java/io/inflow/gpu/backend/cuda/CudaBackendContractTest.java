package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendContractTest;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;

/**
 * The same contract on CUDA (BF16 GEMM tolerance); skipped with the reason ("no CUDA device: ...") where no driver
 * or device is found. Run with {@code -Dinflow.cuda.sync-after-launch=true} to see a kernel fault at its launch.
 */
@Tag("gpu")
class CudaBackendContractTest extends BackendContractTest {
    @Override
    protected Backend create() {
        CudaAvailability.Result probe = CudaAvailability.probe();
        Assumptions.assumeTrue(probe.available(), () -> "no CUDA device: " + probe.reason());
        return Backends.create(BackendKind.CUDA, 1);
    }

    @Override
    protected MatmulTolerance matmulTolerance() {
        return MatmulTolerance.BF16;
    }
}
