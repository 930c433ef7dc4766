package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.MaxSimContractTest;
import io.inflow.gpu.testing.CudaDevice;
import org.junit.jupiter.api.Tag;

/**
 * The MaxSim contract on CUDA ({@code maxsim.cu}: {@code maxsim_f32 / _i8 / _b1}); skipped with the reason ("no CUDA
 * device: ...") where no driver or device is found. Run with {@code -Dinflow.cuda.sync-after-launch=true} to see a
 * kernel fault at its launch.
 *
 * <p>Tolerance: the contract's float32 one. Each thread computes whole dot products as sequential FMA chains over the
 * dim (the same chain as {@code FastMaxSim}), the max over document tokens is exact, and one thread sums a pair's row
 * maxima in token order.
 */
@Tag("gpu")
class CudaMaxSimContractTest extends MaxSimContractTest {
    @Override
    protected Backend create() {
        return CudaDevice.backendOrSkip();
    }
}
