package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.ClusteringContractTest;
import io.inflow.gpu.testing.CudaDevice;
import org.junit.jupiter.api.Tag;

/**
 * The clustering contract on CUDA: core distances through {@code retrieval.cu}'s top-k (candidates recomputed in
 * double on the host), the spanning tree by {@code prim_step_f32}, PCA by {@code covariance_f32} and
 * {@code jacobi_eigen_f64} ({@code cluster.cu}); skipped with the reason ("no CUDA device: ...") where no driver or
 * device is found.
 *
 * <p>Tolerances: the contract's. Prim compares float32 keys (squared L2 summed by lanes then a butterfly, or the
 * cosine distance), so it may pick another of two edges whose weights differ by float rounding; the reported weights
 * are recomputed in double, and the total stays within the contract's 1e-5 relative. Covariance and Jacobi run in
 * double: eigenvalues within 1e-4 relative, axes within 1e-4 of the reference's.
 */
@Tag("gpu")
class CudaClusteringContractTest extends ClusteringContractTest {
    @Override
    protected Backend create() {
        return CudaDevice.backendOrSkip();
    }
}
