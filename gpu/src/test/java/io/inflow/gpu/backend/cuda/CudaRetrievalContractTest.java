package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.RetrievalContractTest;
import io.inflow.gpu.testing.CudaDevice;
import org.junit.jupiter.api.Tag;

/**
 * The retrieval contract on CUDA ({@code retrieval.cu}: {@code topk_slice_*} and {@code topk_merge}); skipped with the
 * reason ("no CUDA device: ...") where no driver or device is found. Run with
 * {@code -Dinflow.cuda.sync-after-launch=true} to see a kernel fault at its launch.
 *
 * <p>Tolerances: the contract's float32 ones. Each lane sums {@code dim / 32} products in order and a butterfly adds
 * the 32 partial sums, an error well inside the {@code n u |q| |d|} bound the tolerances rest on; the metric epilogue
 * is Java's {@code Metric.score} in double with round-to-nearest intrinsics. Exact ties need no allowance: one code
 * path per row, so identical stored vectors score bit-identically.
 */
@Tag("gpu")
class CudaRetrievalContractTest extends RetrievalContractTest {
    @Override
    protected Backend create() {
        return CudaDevice.backendOrSkip();
    }
}
