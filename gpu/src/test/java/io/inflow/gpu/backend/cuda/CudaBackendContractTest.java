package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendContractTest;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;

/** The same contract on CUDA; skipped with the reason until the CUDA backend exists. */
@Tag("gpu")
class CudaBackendContractTest extends BackendContractTest {
    @Override
    protected Backend create() {
        try {
            return Backends.create(BackendKind.CUDA, 1);
        } catch (UnsupportedOperationException e) {
            Assumptions.abort("skipped: " + e.getMessage());
            return null;
        }
    }
}
