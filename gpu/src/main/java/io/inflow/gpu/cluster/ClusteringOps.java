package io.inflow.gpu.cluster;

/**
 * The clustering kernel family ({@code Family.CLUSTERING}): the three stages of the density tree that cost
 * {@code O(n^2)} or {@code O(n d^2)}. Linkage, condensing and selection ({@link CondensedTree}) are shared by every
 * backend. Every backend gives the same core distances and spanning-tree weight within float tolerance, and the same
 * principal subspace.
 *
 * <pre>{@code
 * ClusteringOps ops = backend.clustering();
 * double[] core = ops.coreDistances(points, 5, ClusterMetric.L2);
 * SpanningTree mst = ops.spanningTree(points, core, ClusterMetric.L2);
 * Pca pca = ops.principalComponents(points, 5);
 * }</pre>
 */
public interface ClusteringOps {

    /** Distance of every point to its {@code minSamples}-th nearest neighbour, the point itself counted first. */
    double[] coreDistances(Points points, int minSamples, ClusterMetric metric);

    /** A minimum spanning tree of the mutual-reachability graph, edges sorted by weight. */
    SpanningTree spanningTree(Points points, double[] core, ClusterMetric metric);

    /** The first {@code components} principal axes of {@code points} (mean-centred). */
    Pca principalComponents(Points points, int components);

    /** Checks the arguments every backend shares. */
    static void check(Points points, int minSamples) {
        if (minSamples < 1 || minSamples > points.n()) {
            throw new IllegalArgumentException("minSamples " + minSamples + " must be between 1 and the "
                    + points.n() + " points");
        }
    }
}
