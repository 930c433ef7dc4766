package io.inflow.gpu.cluster;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The nested-density paper's own mode, for comparison with the HDBSCAN tree: DBSCAN at radius {@code eps0}, then
 * {@code eps0 + step}, {@code eps0 + 2 step}, ...; each cluster nests into the cluster of the next level that holds
 * its core points (DBSCAN clusters only grow and merge as the radius grows), until one cluster holds every point or
 * {@code maxLevels} is reached.
 *
 * <p>Each level is exactly DBSCAN with {@code minPts = minSamples} (the point itself counted): core points have at
 * least {@code minSamples} points within {@code eps}; core points within {@code eps} of each other share a cluster
 * (read from the mutual-reachability spanning tree, whose edges up to {@code eps} connect exactly those); a border
 * point joins the cluster of its nearest core point within {@code eps}; the rest is noise.
 *
 * <pre>{@code
 * List<SteppedRadius.Level> levels = SteppedRadius.build(points, 5, ClusterMetric.L2, 0.5, 0.25, 50, ops);
 * int[] labelsAtSecondLevel = levels.get(1).labels();
 * }</pre>
 */
public final class SteppedRadius {

    /**
     * One radius: DBSCAN labels ({@code 0..clusters-1}, -1 noise) and, per cluster, its cluster at the next level
     * ({@code -1} on the last level).
     */
    public record Level(double eps, int[] labels, int clusters, int[] parentAtNext) {
        public double noiseShare() {
            return Arrays.stream(labels).filter(l -> l < 0).count() / (double) Math.max(1, labels.length);
        }
    }

    private SteppedRadius() {
    }

    public static List<Level> build(Points points, int minSamples, ClusterMetric metric, double eps0, double step,
            int maxLevels, ClusteringOps ops) {
        if (!(eps0 > 0) || !(step > 0) || maxLevels < 1) {
            throw new IllegalArgumentException("stepped radius needs eps0 > 0, step > 0 and maxLevels >= 1 (were "
                    + eps0 + ", " + step + ", " + maxLevels + ")");
        }
        double[] core = ops.coreDistances(points, minSamples, metric);
        SpanningTree mst = ops.spanningTree(points, core, metric);
        List<Level> levels = new ArrayList<>();
        for (int l = 0; l < maxLevels; l++) {
            double eps = eps0 + l * step;
            int[] labels = dbscan(points, metric, core, mst, eps);
            int clusters = Arrays.stream(labels).max().orElse(-1) + 1;
            levels.add(new Level(eps, labels, clusters, null));
            if (clusters == 1 && Arrays.stream(labels).allMatch(x -> x == 0)) {
                break;
            }
        }
        return nest(levels, core);
    }

    /** DBSCAN at {@code eps} from the core distances and the spanning tree. */
    static int[] dbscan(Points points, ClusterMetric metric, double[] core, SpanningTree mst, double eps) {
        int n = points.n();
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = i;
        }
        for (int e = 0; e < mst.edges() && mst.weight()[e] <= eps; e++) {
            union(parent, mst.from()[e], mst.to()[e]);
        }
        int[] labels = new int[n];
        Arrays.fill(labels, -1);
        int[] rootLabel = new int[n];
        Arrays.fill(rootLabel, -1);
        int next = 0;
        for (int i = 0; i < n; i++) { // clusters numbered by their first core point
            if (core[i] <= eps) {
                int r = find(parent, i);
                if (rootLabel[r] < 0) {
                    rootLabel[r] = next++;
                }
                labels[i] = rootLabel[r];
            }
        }
        for (int i = 0; i < n; i++) {
            if (core[i] <= eps) {
                continue;
            }
            double best = Double.POSITIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                if (core[j] <= eps) {
                    double d = metric.distance(points, i, j);
                    if (d <= eps && d < best) {
                        best = d;
                        labels[i] = labels[j];
                    }
                }
            }
        }
        return labels;
    }

    /** Links each level's clusters to the next level's cluster holding their core points. */
    private static List<Level> nest(List<Level> levels, double[] core) {
        List<Level> out = new ArrayList<>();
        for (int l = 0; l < levels.size(); l++) {
            Level level = levels.get(l);
            int[] up = new int[level.clusters()];
            Arrays.fill(up, -1);
            if (l + 1 < levels.size()) {
                int[] nextLabels = levels.get(l + 1).labels();
                for (int i = 0; i < level.labels().length; i++) {
                    int c = level.labels()[i];
                    if (c >= 0 && core[i] <= level.eps()) {
                        up[c] = nextLabels[i];
                    }
                }
            }
            out.add(new Level(level.eps(), level.labels(), level.clusters(), up));
        }
        return out;
    }

    private static int find(int[] parent, int x) {
        while (parent[x] != x) {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        return x;
    }

    private static void union(int[] parent, int a, int b) {
        int ra = find(parent, a);
        int rb = find(parent, b);
        if (ra != rb) {
            parent[Math.max(ra, rb)] = Math.min(ra, rb);
        }
    }
}
