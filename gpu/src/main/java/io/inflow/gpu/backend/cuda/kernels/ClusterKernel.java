package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code cluster.cu}: {@code prim_step_f32} (one step of Prim's algorithm on the mutual-reachability
 * graph; the last block picks the next point, so {@code n - 1} launches build the tree with no host round trip),
 * {@code covariance_f32} (double-accumulated covariance, 32 x 32 tiles of the upper triangle) and
 * {@code jacobi_eigen_f64} (every eigenpair by parallel round-robin Jacobi, one block). CPU twins:
 * {@code ReferenceClustering} ({@code SpanningTree.prim}, {@code Pca}), {@code FastClustering}. Arguments must have
 * been checked on the host.
 *
 * <pre>{@code
 * ClusterKernel.PrimPlan plan = ClusterKernel.primPlan(n, dim);
 * for (int step = 0; step < n - 1; step++) {
 *     ClusterKernel.primStep(launcher, plan, x, norms, coreKey, metric, inTree, best, bestFrom, blockBest,
 *             blockArg, ticket, state, edgeFrom, edgeTo, step);
 * }
 * }</pre>
 */
public final class ClusterKernel {
    public static final String MODULE = "cluster";
    static final int THREADS = 256;
    /** Largest dimension the kernels accept (the Jacobi block's rotations and the staged point fit in 48 KiB). */
    public static final int MAX_DIM = 2048;
    /** Points a Prim block owns at least (8 warps x 8 points), so small sets use few blocks. */
    static final int MIN_POINTS_PER_BLOCK = 64;
    /** Most Prim blocks: enough to fill an H100/H200 (132 SMs) several times over; the last block reads them all. */
    static final int MAX_PRIM_BLOCKS = 1024;
    /** Fixed part of prim_step_f32's shared memory: per-thread and per-warp minima, the ticket flag (cluster.cu). */
    static final int PRIM_FIXED_SHARED = (2 * THREADS + 2 * 8 + 4) * 4;
    /** covariance_f32's two staged tiles of 32 x 33 doubles. */
    static final int COVARIANCE_SHARED = 2 * 32 * 33 * 8;

    private ClusterKernel() {
    }

    /** How a Prim step is cut: {@code blocks} blocks owning {@code perBlock} consecutive points each. */
    public record PrimPlan(int n, int dim, int blocks, int perBlock) {
        public int sharedBytes() {
            return PRIM_FIXED_SHARED + dim * 4;
        }
    }

    public static PrimPlan primPlan(int n, int dim) {
        checkDim(dim);
        int blocks = Math.max(1, Math.min(MAX_PRIM_BLOCKS, KernelLauncher.ceilDiv(n, MIN_POINTS_PER_BLOCK)));
        int per = KernelLauncher.ceilDiv(n, blocks);
        return new PrimPlan(n, dim, KernelLauncher.ceilDiv(n, per), per);
    }

    /** Dynamic shared memory of {@code jacobi_eigen_f64} for a {@code dim x dim} matrix. */
    public static int jacobiSharedBytes(int dim) {
        int pairs = (dim + (dim & 1)) / 2;
        return THREADS * 8 + 24 * pairs;
    }

    static void checkDim(int dim) {
        if (dim < 1 || dim > MAX_DIM) {
            throw new IllegalArgumentException("CUDA clustering supports dim 1 to " + MAX_DIM + " (requested " + dim
                    + ")");
        }
    }

    /**
     * One Prim step. C signature {@code (x, norms, core_key, n, dim, metric, per, in_tree, best, best_from,
     * block_best, block_arg, ticket, state, edge_from, edge_to, step)}; {@code metric} 0 = L2 (squared keys),
     * 1 = cosine.
     */
    public static void primStep(KernelLauncher launcher, PrimPlan plan, Tensor x, Tensor norms, Tensor coreKey,
                                int metric, Tensor inTree, Tensor best, Tensor bestFrom, Tensor blockBest,
                                Tensor blockArg, Tensor ticket, Tensor state, Tensor edgeFrom, Tensor edgeTo,
                                int step) {
        launcher.launch(MODULE, "prim_step_f32", plan.blocks(), 1, 1, THREADS, plan.sharedBytes(),
                "n=" + plan.n() + " dim=" + plan.dim() + " step=" + step,
                KernelArgs.of().ptr(x).ptr(norms).ptr(coreKey).i32(plan.n()).i32(plan.dim()).i32(metric)
                        .i32(plan.perBlock()).ptr(inTree).ptr(best).ptr(bestFrom).ptr(blockBest).ptr(blockArg)
                        .ptr(ticket).ptr(state).ptr(edgeFrom).ptr(edgeTo).i32(step));
    }

    /** {@code cov = covariance of x (n x dim, float32) around mean (double)}, double {@code dim x dim}. */
    public static void covariance(KernelLauncher launcher, Tensor x, Tensor mean, int n, int dim, Tensor cov) {
        checkDim(dim);
        int tiles = KernelLauncher.ceilDiv(dim, 32);
        launcher.launch(MODULE, "covariance_f32", tiles, tiles, 1, THREADS, COVARIANCE_SHARED,
                "n=" + n + " dim=" + dim, KernelArgs.of().ptr(x).ptr(mean).i32(n).i32(dim).ptr(cov));
    }

    /** Diagonalises {@code a} (double, {@code dim x dim}, symmetric) in place; eigenvectors into columns of {@code v}. */
    public static void jacobiEigen(KernelLauncher launcher, Tensor a, Tensor v, int dim, int maxSweeps,
                                   Tensor sweepsOut) {
        checkDim(dim);
        launcher.launch(MODULE, "jacobi_eigen_f64", 1, 1, 1, THREADS, jacobiSharedBytes(dim), "dim=" + dim,
                KernelArgs.of().ptr(a).ptr(v).i32(dim).i32(maxSweeps).ptr(sweepsOut));
    }
}
