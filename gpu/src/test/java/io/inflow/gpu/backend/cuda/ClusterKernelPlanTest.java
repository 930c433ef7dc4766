package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.cuda.kernels.ClusterKernel;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The launch plan of {@code cluster.cu} (no GPU needed): Prim's blocks own every point exactly once and the last
 * block is a real one (the ticket counts {@code gridDim.x} blocks), and every kernel's shared memory fits the default
 * 48 KiB up to the largest dimension accepted.
 */
class ClusterKernelPlanTest {

    @Test
    void primBlocksCoverEveryPointOnce() {
        for (int n : new int[] {1, 2, 63, 64, 65, 1000, 65_536, 100_000, 1_000_003}) {
            ClusterKernel.PrimPlan plan = ClusterKernel.primPlan(n, 384);
            assertThat((long) plan.blocks() * plan.perBlock()).as("n %d covered", n).isGreaterThanOrEqualTo(n);
            assertThat((long) (plan.blocks() - 1) * plan.perBlock()).as("n %d: no block without points", n)
                    .isLessThan(n);
            assertThat(plan.blocks()).isBetween(1, 1024);
        }
    }

    @Test
    void sharedMemoryFitsTheDefaultLimitUpToTheLargestDimension() {
        int limit = KernelLauncher.DEFAULT_SHARED_LIMIT;
        assertThat(ClusterKernel.primPlan(10, ClusterKernel.MAX_DIM).sharedBytes()).isLessThanOrEqualTo(limit);
        assertThat(ClusterKernel.jacobiSharedBytes(ClusterKernel.MAX_DIM)).isLessThanOrEqualTo(limit);
        assertThat(ClusterKernel.jacobiSharedBytes(3)).as("odd dim: a bye pair").isEqualTo(256 * 8 + 24 * 2);
        assertThatThrownBy(() -> ClusterKernel.primPlan(10, ClusterKernel.MAX_DIM + 1))
                .hasMessageContaining("dim 1 to 2048");
    }
}
