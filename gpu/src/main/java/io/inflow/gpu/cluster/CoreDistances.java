package io.inflow.gpu.cluster;

import java.util.PriorityQueue;

/**
 * Core distances: for every point, the distance to its {@code minSamples}-th nearest neighbour, counting the point
 * itself as the first (so {@code minSamples = 1} gives 0 everywhere). The plain reference: every pair, in double.
 *
 * <p>{@code double[] core = CoreDistances.reference(points, 5, ClusterMetric.L2);}
 */
public final class CoreDistances {

    private CoreDistances() {
    }

    public static double[] reference(Points points, int minSamples, ClusterMetric metric) {
        int n = points.n();
        if (minSamples > n) {
            throw new IllegalArgumentException("minSamples " + minSamples + " exceeds the " + n + " points");
        }
        double[] core = new double[n];
        for (int i = 0; i < n; i++) {
            // the minSamples smallest distances (self included), largest on top
            PriorityQueue<Double> nearest = new PriorityQueue<>(minSamples, (a, b) -> Double.compare(b, a));
            for (int j = 0; j < n; j++) {
                double d = i == j ? 0 : metric.distance(points, i, j);
                if (nearest.size() < minSamples) {
                    nearest.add(d);
                } else if (d < nearest.peek()) {
                    nearest.poll();
                    nearest.add(d);
                }
            }
            core[i] = nearest.peek();
        }
        return core;
    }

    /**
     * The points as float32 retrieval chunks of {@code chunkRows} rows (row {@code i} of chunk {@code c} is point
     * {@code c * chunkRows + i}): how the fast and CUDA backends search the points against themselves for their k
     * nearest neighbours.
     */
    public static java.util.List<io.inflow.gpu.retrieval.VectorChunk> asChunks(Points points, int chunkRows) {
        int n = points.n();
        int d = points.dim();
        java.util.List<io.inflow.gpu.retrieval.VectorChunk> chunks = new java.util.ArrayList<>();
        for (int start = 0; start < n; start += chunkRows) {
            int rows = Math.min(chunkRows, n - start);
            var c = new io.inflow.gpu.retrieval.VectorChunk(io.inflow.gpu.retrieval.Storage.FLOAT32, d, rows);
            for (int i = 0; i < rows; i++) {
                c.append(points.data(), (start + i) * d, start + i, io.inflow.gpu.retrieval.VectorChunk.NO_FILTER_CODE);
            }
            chunks.add(c);
        }
        return chunks;
    }

    /** The mutual reachability distance: {@code max(core[i], core[j], d(i, j))}. */
    public static double mutualReachability(double[] core, int i, int j, double distance) {
        return Math.max(distance, Math.max(core[i], core[j]));
    }
}
