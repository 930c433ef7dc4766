package io.inflow.gpu.cluster;

import java.util.ArrayList;
import java.util.List;

/**
 * A built density tree: the condensed tree, the selected flat clusters, every point's label and path, and how long
 * each stage took.
 *
 * <pre>{@code
 * DensityTree t = Hdbscan.reference().build(points, new HdbscanParams(5, 10, ClusterMetric.L2, Selection.EOM));
 * int[] labels = t.labels();         // flat clusters 0..m-1, -1 for noise
 * List<Integer> path = t.path(17);   // point 17's clusters, deepest first, root last
 * }</pre>
 *
 * @param tree the condensed tree (clusters numbered from the root, 0)
 * @param core every point's core distance
 * @param selected which clusters of {@code tree} are the flat clusters
 * @param labels flat label per point ({@code 0..m-1} in cluster-id order, -1 noise)
 * @param times time per stage
 */
public record DensityTree(CondensedTree tree, double[] core, boolean[] selected, int[] labels, StageTimes times) {

    /** Nanoseconds per stage: core distances (kNN), spanning tree, and the rest (linkage, condensing, selection). */
    public record StageTimes(long knnNanos, long mstNanos, long condenseNanos) {
        @Override
        public String toString() {
            return String.format("kNN %.1f ms, MST %.1f ms, condensed tree %.1f ms", knnNanos / 1e6, mstNanos / 1e6,
                    condenseNanos / 1e6);
        }
    }

    /** Number of flat clusters. */
    public int flatClusters() {
        int m = 0;
        for (boolean s : selected) {
            m += s ? 1 : 0;
        }
        return m;
    }

    /** Point {@code p}'s clusters in the tree from the deepest one it belongs to up to the root (0). */
    public List<Integer> path(int p) {
        List<Integer> path = new ArrayList<>();
        for (int c = tree.pointCluster(p); c >= 0; c = tree.parent(c)) {
            path.add(c);
        }
        return path;
    }

    /** Share of points labelled noise. */
    public double noiseShare() {
        int noise = 0;
        for (int l : labels) {
            noise += l < 0 ? 1 : 0;
        }
        return labels.length == 0 ? 0 : (double) noise / labels.length;
    }
}
