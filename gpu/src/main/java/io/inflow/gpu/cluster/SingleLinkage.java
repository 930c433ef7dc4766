package io.inflow.gpu.cluster;

/**
 * The single-linkage hierarchy of a spanning tree, as a binary dendrogram: merge {@code m} joins nodes
 * {@code left[m]} and {@code right[m]} at {@code distance[m]} into node {@code n + m} of {@code size[m]} points.
 * Nodes {@code 0..n-1} are the points. Every DBSCAN* clustering at radius {@code eps} is this dendrogram cut at
 * {@code eps} (components of merges at distance {@code <= eps}, points with core distance above it as noise).
 *
 * <p>{@code SingleLinkage tree = SingleLinkage.of(mst, points.n());}
 */
public record SingleLinkage(int n, int[] left, int[] right, double[] distance, int[] size) {

    /** Merges the edges of {@code mst} (sorted ascending) with a union-find. */
    public static SingleLinkage of(SpanningTree mst, int n) {
        int m = mst.edges();
        int[] left = new int[m];
        int[] right = new int[m];
        double[] distance = new double[m];
        int[] size = new int[m];
        int[] parent = new int[n + m]; // union-find over dendrogram nodes
        int[] nodeSize = new int[n + m];
        for (int i = 0; i < n + m; i++) {
            parent[i] = i;
            nodeSize[i] = i < n ? 1 : 0;
        }
        for (int e = 0; e < m; e++) {
            int a = find(parent, mst.from()[e]);
            int b = find(parent, mst.to()[e]);
            int node = n + e;
            left[e] = a;
            right[e] = b;
            distance[e] = mst.weight()[e];
            nodeSize[node] = nodeSize[a] + nodeSize[b];
            size[e] = nodeSize[node];
            parent[a] = node;
            parent[b] = node;
        }
        return new SingleLinkage(n, left, right, distance, size);
    }

    private static int find(int[] parent, int x) {
        int root = x;
        while (parent[root] != root) {
            root = parent[root];
        }
        while (parent[x] != root) {
            int next = parent[x];
            parent[x] = root;
            x = next;
        }
        return root;
    }

    /** Points under dendrogram node {@code node}. */
    public int sizeOf(int node) {
        return node < n ? 1 : size[node - n];
    }
}
