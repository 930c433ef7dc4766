package io.inflow.gpu.cluster;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The condensed cluster tree of HDBSCAN: the single-linkage dendrogram read from the root down, where a split only
 * makes two new clusters when both sides hold at least {@code minClusterSize} points; a smaller side does not make a
 * cluster, its points fall out of the current one ("noise at that density"). Densities are {@code lambda = 1 /
 * distance}: a cluster is born at {@code birthLambda} and loses points as lambda grows.
 *
 * <p>Clusters are numbered {@code 0..clusters()-1} from the root (0) down, so a child's id is above its parent's.
 * Every point records the cluster it falls out of ({@link #pointCluster}) and the lambda at which it does.
 *
 * <pre>{@code
 * CondensedTree tree = CondensedTree.of(SingleLinkage.of(mst, n), 10);
 * double[] stability = tree.stability();
 * }</pre>
 */
public final class CondensedTree {

    /** Lambda used for merges at distance 0 (duplicates): finite, so stabilities stay comparable. */
    static final double MAX_LAMBDA = 1e12;

    private final int n;
    private final int[] parent;
    private final double[] birthLambda;
    private final int[] size;
    private final int[] pointCluster;
    private final double[] pointLambda;

    private CondensedTree(int n, int[] parent, double[] birthLambda, int[] size, int[] pointCluster,
            double[] pointLambda) {
        this.n = n;
        this.parent = parent;
        this.birthLambda = birthLambda;
        this.size = size;
        this.pointCluster = pointCluster;
        this.pointLambda = pointLambda;
    }

    /** Density of a merge at {@code distance}. */
    public static double lambda(double distance) {
        return distance <= 1 / MAX_LAMBDA ? MAX_LAMBDA : 1 / distance;
    }

    /** Condenses {@code linkage} with {@code minClusterSize}. */
    public static CondensedTree of(SingleLinkage linkage, int minClusterSize) {
        int n = linkage.n();
        int[] pointCluster = new int[n];
        double[] pointLambda = new double[n];
        List<Integer> parents = new ArrayList<>();
        List<Double> births = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        parents.add(-1);
        births.add(0.0);
        sizes.add(n);
        if (n == 1) {
            pointCluster[0] = 0;
            pointLambda[0] = MAX_LAMBDA;
        }
        ArrayDeque<int[]> work = new ArrayDeque<>(); // {dendrogram node, cluster}
        if (n > 1) {
            work.push(new int[] {2 * n - 2, 0});
        }
        while (!work.isEmpty()) {
            int[] w = work.pop();
            int m = w[0] - n;
            int cluster = w[1];
            double lambda = lambda(linkage.distance()[m]);
            int l = linkage.left()[m];
            int r = linkage.right()[m];
            int sl = linkage.sizeOf(l);
            int sr = linkage.sizeOf(r);
            boolean bigL = sl >= minClusterSize;
            boolean bigR = sr >= minClusterSize;
            if (bigL && bigR) {
                for (int child : new int[] {l, r}) {
                    int id = parents.size();
                    parents.add(cluster);
                    births.add(lambda);
                    sizes.add(linkage.sizeOf(child));
                    work.push(new int[] {child, id});
                }
            } else {
                for (int child : new int[] {l, r}) {
                    boolean big = child == l ? bigL : bigR;
                    if (big) {
                        work.push(new int[] {child, cluster}); // the cluster goes on, smaller
                    } else {
                        fallOut(linkage, child, cluster, lambda, pointCluster, pointLambda);
                    }
                }
            }
        }
        int k = parents.size();
        int[] parent = new int[k];
        double[] birth = new double[k];
        int[] size = new int[k];
        for (int c = 0; c < k; c++) {
            parent[c] = parents.get(c);
            birth[c] = births.get(c);
            size[c] = sizes.get(c);
        }
        return new CondensedTree(n, parent, birth, size, pointCluster, pointLambda);
    }

    /** Every point under dendrogram node {@code node} leaves {@code cluster} at {@code lambda}. */
    private static void fallOut(SingleLinkage linkage, int node, int cluster, double lambda, int[] pointCluster,
            double[] pointLambda) {
        int n = linkage.n();
        ArrayDeque<Integer> stack = new ArrayDeque<>();
        stack.push(node);
        while (!stack.isEmpty()) {
            int x = stack.pop();
            if (x < n) {
                pointCluster[x] = cluster;
                pointLambda[x] = lambda;
            } else {
                stack.push(linkage.left()[x - n]);
                stack.push(linkage.right()[x - n]);
            }
        }
    }

    public int points() {
        return n;
    }

    public int clusters() {
        return parent.length;
    }

    /** Parent cluster of {@code c}; -1 for the root. */
    public int parent(int c) {
        return parent[c];
    }

    /** Lambda at which cluster {@code c} splits off its parent (0 for the root). */
    public double birthLambda(int c) {
        return birthLambda[c];
    }

    /** Points in cluster {@code c} when it is born. */
    public int size(int c) {
        return size[c];
    }

    /** The cluster point {@code p} falls out of: the deepest cluster it belongs to. */
    public int pointCluster(int p) {
        return pointCluster[p];
    }

    /** Lambda at which point {@code p} leaves {@link #pointCluster(int)}. */
    public double pointLambda(int p) {
        return pointLambda[p];
    }

    /** Child clusters of every cluster. */
    public int[][] children() {
        int[] count = new int[clusters()];
        for (int c = 1; c < clusters(); c++) {
            count[parent[c]]++;
        }
        int[][] out = new int[clusters()][];
        for (int c = 0; c < clusters(); c++) {
            out[c] = new int[count[c]];
        }
        Arrays.fill(count, 0);
        for (int c = 1; c < clusters(); c++) {
            out[parent[c]][count[parent[c]]++] = c;
        }
        return out;
    }

    /**
     * Stability of every cluster: {@code sum over its points of (lambda_leave - lambda_birth)}, a child cluster
     * counting its size at its own birth.
     */
    public double[] stability() {
        double[] s = new double[clusters()];
        for (int p = 0; p < n; p++) {
            int c = pointCluster[p];
            s[c] += pointLambda[p] - birthLambda[c];
        }
        for (int c = 1; c < clusters(); c++) {
            s[parent[c]] += (birthLambda[c] - birthLambda[parent[c]]) * size[c];
        }
        return s;
    }

    /**
     * The selected clusters, none nested in another. {@link HdbscanParams.Selection#EOM}: bottom up, a cluster is
     * kept when its stability is at least the sum of its selected descendants'; the root only when
     * {@code allowRoot}. {@link HdbscanParams.Selection#LEAF}: the clusters without child clusters (the root only
     * when it has none and {@code allowRoot}).
     */
    public boolean[] select(HdbscanParams.Selection selection, boolean allowRoot) {
        int k = clusters();
        boolean[] selected = new boolean[k];
        int[][] children = children();
        if (selection == HdbscanParams.Selection.LEAF) {
            for (int c = 0; c < k; c++) {
                selected[c] = children[c].length == 0 && (c != 0 || allowRoot);
            }
            return selected;
        }
        double[] stability = stability();
        double[] best = new double[k]; // stability of the best selection within the subtree
        for (int c = k - 1; c >= 0; c--) {
            double childSum = 0;
            for (int ch : children[c]) {
                childSum += best[ch];
            }
            boolean eligible = c != 0 || allowRoot;
            if (children[c].length == 0) {
                selected[c] = eligible;
                best[c] = stability[c];
            } else if (eligible && stability[c] >= childSum) {
                selected[c] = true;
                best[c] = stability[c];
                deselectBelow(c, children, selected);
            } else {
                best[c] = childSum;
            }
        }
        return selected;
    }

    private static void deselectBelow(int c, int[][] children, boolean[] selected) {
        ArrayDeque<Integer> stack = new ArrayDeque<>();
        for (int ch : children[c]) {
            stack.push(ch);
        }
        while (!stack.isEmpty()) {
            int x = stack.pop();
            selected[x] = false;
            for (int ch : children[x]) {
                stack.push(ch);
            }
        }
    }

    /**
     * Flat labels from a selection: a point belongs to the selected cluster above (or at) the cluster it falls out
     * of; -1 (noise) when there is none. Labels are {@code 0..m-1} in cluster-id order.
     */
    public int[] labels(boolean[] selected) {
        int k = clusters();
        int[] flat = new int[k];
        int m = 0;
        for (int c = 0; c < k; c++) {
            flat[c] = selected[c] ? m++ : -1;
        }
        int[] owner = new int[k]; // the selected cluster at or above c, or -1
        for (int c = 0; c < k; c++) {
            owner[c] = selected[c] ? flat[c] : (c == 0 ? -1 : owner[parent[c]]);
        }
        int[] labels = new int[n];
        for (int p = 0; p < n; p++) {
            labels[p] = owner[pointCluster[p]];
        }
        return labels;
    }
}
