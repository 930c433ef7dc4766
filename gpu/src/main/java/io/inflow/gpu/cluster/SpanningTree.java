package io.inflow.gpu.cluster;

import java.util.Arrays;
import java.util.Comparator;

/**
 * A minimum spanning tree of {@code n} points: {@code n - 1} edges sorted by weight (ascending; equal weights keep
 * the order they were found in). Built here by Prim's algorithm on the complete mutual-reachability graph, the plain
 * reference: {@code O(n^2)} distances, {@code O(n)} memory.
 *
 * <p>{@code SpanningTree mst = SpanningTree.prim(points, core, ClusterMetric.L2);}
 *
 * @param from one end of each edge
 * @param to the other end
 * @param weight the mutual reachability distance of each edge
 */
public record SpanningTree(int[] from, int[] to, double[] weight) {

    public SpanningTree {
        if (from.length != to.length || from.length != weight.length) {
            throw new IllegalArgumentException("edge arrays differ in length");
        }
    }

    public int edges() {
        return from.length;
    }

    /** Prim's algorithm from point 0 over mutual reachability distances. */
    public static SpanningTree prim(Points points, double[] core, ClusterMetric metric) {
        int n = points.n();
        if (n == 0) {
            return new SpanningTree(new int[0], new int[0], new double[0]);
        }
        boolean[] inTree = new boolean[n];
        double[] best = new double[n];
        int[] bestFrom = new int[n];
        Arrays.fill(best, Double.POSITIVE_INFINITY);
        int[] from = new int[n - 1];
        int[] to = new int[n - 1];
        double[] weight = new double[n - 1];
        int current = 0;
        inTree[0] = true;
        for (int e = 0; e < n - 1; e++) {
            int next = -1;
            double nextWeight = Double.POSITIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                if (inTree[j]) {
                    continue;
                }
                double mr = CoreDistances.mutualReachability(core, current, j, metric.distance(points, current, j));
                if (mr < best[j]) {
                    best[j] = mr;
                    bestFrom[j] = current;
                }
                if (best[j] < nextWeight || next < 0) {
                    nextWeight = best[j];
                    next = j;
                }
            }
            inTree[next] = true;
            from[e] = bestFrom[next];
            to[e] = next;
            weight[e] = nextWeight;
            current = next;
        }
        return sorted(from, to, weight);
    }

    /** The edges sorted by weight (stable). */
    public static SpanningTree sorted(int[] from, int[] to, double[] weight) {
        Integer[] order = new Integer[weight.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> weight[i]));
        int[] f = new int[order.length];
        int[] t = new int[order.length];
        double[] w = new double[order.length];
        for (int i = 0; i < order.length; i++) {
            f[i] = from[order[i]];
            t[i] = to[order[i]];
            w[i] = weight[order[i]];
        }
        return new SpanningTree(f, t, w);
    }

    /** Sum of the edge weights (equal for every minimum spanning tree of a graph: how twins are compared). */
    public double totalWeight() {
        double s = 0;
        for (double w : weight) {
            s += w;
        }
        return s;
    }
}
