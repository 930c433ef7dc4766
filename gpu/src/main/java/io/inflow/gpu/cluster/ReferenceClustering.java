package io.inflow.gpu.cluster;

/**
 * The plain readable clustering twin: every distance in double, core distances by a full scan per point, Prim's
 * algorithm on the complete mutual-reachability graph, PCA by the covariance matrix in double and Jacobi rotations.
 *
 * <p>{@code DensityTree t = new Hdbscan(ReferenceClustering.INSTANCE).build(points, params);}
 */
public final class ReferenceClustering implements ClusteringOps {

    public static final ReferenceClustering INSTANCE = new ReferenceClustering();

    private ReferenceClustering() {
    }

    @Override
    public double[] coreDistances(Points points, int minSamples, ClusterMetric metric) {
        ClusteringOps.check(points, minSamples);
        return CoreDistances.reference(points, minSamples, metric);
    }

    @Override
    public SpanningTree spanningTree(Points points, double[] core, ClusterMetric metric) {
        return SpanningTree.prim(points, core, metric);
    }

    @Override
    public Pca principalComponents(Points points, int components) {
        return Pca.fromCovariance(Pca.mean(points), Pca.covariance(points), components);
    }

    @Override
    public String toString() {
        return "reference";
    }
}
