package io.inflow.gpu.cluster;

import java.util.ArrayList;
import java.util.List;

/**
 * Assigns a new point to a built density tree at once, without rebuilding it (HDBSCAN's approximate prediction): the
 * point's core distance is taken among the tree's points (itself counted first, as when building), its nearest tree
 * point in mutual reachability gives the density {@code lambda = 1 / mr} at which it would join, and it goes to the
 * deepest cluster on that neighbour's path that already exists at that density. Its flat label is the selected
 * cluster on its path, or noise.
 *
 * <pre>{@code
 * TreeAssigner assign = new TreeAssigner(points, tree, params);
 * TreeAssigner.Assignment a = assign.assign(embedding);
 * a.path();    // deepest cluster first, root (0) last
 * a.label();   // flat cluster, -1 for noise
 * }</pre>
 */
public final class TreeAssigner {

    /**
     * Where a point lands.
     *
     * @param path clusters from the deepest one it joins up to the root (0)
     * @param label the flat cluster (index among the selected clusters), -1 for noise
     * @param lambda the density at which it joins ({@code 1 / mutual reachability} to its neighbour)
     * @param neighbour the tree point it joins through
     */
    public record Assignment(List<Integer> path, int label, double lambda, int neighbour) {
        public boolean noise() {
            return label < 0;
        }
    }

    private final Points points;
    private final DensityTree tree;
    private final int minSamples;
    private final ClusterMetric metric;
    private final int[] flatOf; // selected cluster id -> flat label, else -1

    /** The tree's points (what new points are compared with). */
    public Points points() {
        return points;
    }

    public DensityTree tree() {
        return tree;
    }

    public TreeAssigner(Points points, DensityTree tree, HdbscanParams params) {
        if (points.n() != tree.labels().length) {
            throw new IllegalArgumentException("a tree of " + tree.labels().length + " points with " + points.n()
                    + " points");
        }
        this.points = points;
        this.tree = tree;
        this.minSamples = params.minSamples();
        this.metric = params.metric();
        CondensedTree t = tree.tree();
        flatOf = new int[t.clusters()];
        int m = 0;
        for (int c = 0; c < t.clusters(); c++) {
            flatOf[c] = tree.selected()[c] ? m++ : -1;
        }
    }

    /** Assigns {@code x} ({@code dim} values). */
    public Assignment assign(float[] x) {
        int n = points.n();
        if (x.length != points.dim()) {
            throw new IllegalArgumentException("assigning a " + x.length + "-d point to a " + points.dim()
                    + "-d tree");
        }
        double[] dist = new double[n];
        for (int j = 0; j < n; j++) {
            dist[j] = metric.distance(x, points, j);
        }
        double core = coreDistance(dist);
        int best = -1;
        double bestMr = Double.POSITIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            double mr = Math.max(dist[j], Math.max(core, tree.core()[j]));
            if (mr < bestMr) {
                bestMr = mr;
                best = j;
            }
        }
        double lambda = CondensedTree.lambda(bestMr);
        CondensedTree t = tree.tree();
        int c = t.pointCluster(best);
        while (c > 0 && t.birthLambda(c) > lambda) {
            c = t.parent(c); // the neighbour's cluster did not exist yet at this density
        }
        List<Integer> path = new ArrayList<>();
        int label = -1;
        for (int p = c; p >= 0; p = t.parent(p)) {
            path.add(p);
            if (label < 0 && flatOf[p] >= 0) {
                label = flatOf[p];
            }
        }
        return new Assignment(path, label, lambda, best);
    }

    /**
     * The {@code minSamples}-th smallest distance counting the point itself (0) first: the {@code minSamples - 1}
     * smallest kept in a sorted array (insertion), not a sort of every distance, as this runs once per event.
     */
    private double coreDistance(double[] dist) {
        if (minSamples <= 1) {
            return 0;
        }
        int k = Math.min(minSamples - 1, dist.length);
        double[] nearest = new double[k];
        java.util.Arrays.fill(nearest, Double.POSITIVE_INFINITY);
        for (double d : dist) {
            if (d < nearest[k - 1]) {
                int at = k - 1;
                while (at > 0 && nearest[at - 1] > d) {
                    nearest[at] = nearest[at - 1];
                    at--;
                }
                nearest[at] = d;
            }
        }
        return nearest[k - 1];
    }
}
