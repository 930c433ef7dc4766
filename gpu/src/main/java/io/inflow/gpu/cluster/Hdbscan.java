package io.inflow.gpu.cluster;

/**
 * Builds the nested density tree the HDBSCAN way: core distances from the {@code minSamples} nearest neighbours,
 * a minimum spanning tree of the mutual-reachability graph, its single-linkage hierarchy, the condensed tree with
 * cluster stabilities, and flat clusters by excess of mass or leaves. The dense clusters found at a strict density
 * nest into more diffuse ones as the radius grows, up to the root: every DBSCAN* level at once.
 *
 * <p>The two {@code O(n^2)} stages (core distances and spanning tree) come from a {@link ClusteringOps} backend
 * ({@link #reference()}: the plain readable twin); linkage, condensing and selection are shared.
 *
 * <pre>{@code
 * DensityTree t = Hdbscan.reference().build(points, new HdbscanParams(5, 10, ClusterMetric.L2, Selection.EOM));
 * }</pre>
 */
public final class Hdbscan {

    private final ClusteringOps ops;

    public Hdbscan(ClusteringOps ops) {
        this.ops = ops;
    }

    /** The plain reference: every distance in double, Prim's algorithm on the complete graph. */
    public static Hdbscan reference() {
        return new Hdbscan(ReferenceClustering.INSTANCE);
    }

    public ClusteringOps ops() {
        return ops;
    }

    /** The tree of {@code points}; the root is never a flat cluster (as in HDBSCAN's default). */
    public DensityTree build(Points points, HdbscanParams params) {
        if (points.n() < params.minSamples()) {
            throw new IllegalArgumentException("clustering " + points.n() + " points needs at least minSamples ("
                    + params.minSamples() + ")");
        }
        long t0 = System.nanoTime();
        double[] core = ops.coreDistances(points, params.minSamples(), params.metric());
        long t1 = System.nanoTime();
        SpanningTree mst = ops.spanningTree(points, core, params.metric());
        long t2 = System.nanoTime();
        CondensedTree tree = CondensedTree.of(SingleLinkage.of(mst, points.n()), params.minClusterSize());
        boolean[] selected = tree.select(params.selection(), false);
        int[] labels = tree.labels(selected);
        long t3 = System.nanoTime();
        return new DensityTree(tree, core, selected, labels, new DensityTree.StageTimes(t1 - t0, t2 - t1, t3 - t2));
    }
}
