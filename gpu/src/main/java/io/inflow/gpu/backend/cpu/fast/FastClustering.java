package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.cluster.ClusterMetric;
import io.inflow.gpu.cluster.ClusteringOps;
import io.inflow.gpu.cluster.CoreDistances;
import io.inflow.gpu.cluster.Pca;
import io.inflow.gpu.cluster.Points;
import io.inflow.gpu.cluster.SpanningTree;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;

/**
 * The fast CPU clustering twin of {@code ReferenceClustering}: float32 SIMD arithmetic on the backend's threads.
 * <ul>
 *   <li><b>Core distances</b> are an exact k-nearest-neighbour search of the points against themselves, done by the
 *       retrieval family's blocked top-k ({@link FastRetrieval}; the same kernel the index uses) with a few extra
 *       candidates whose distances are then recomputed in difference form (exact near 0); PCA-reduced points (up to
 *       {@link #KD_TREE_MAX_DIM} dimensions, L2) use a k-d tree ({@link KdTreeKnn}), other short vectors every pair.</li>
 *   <li><b>Spanning tree</b>: Prim's algorithm on the complete mutual-reachability graph, as the reference, with the
 *       points not yet in the tree kept compact (ids and vectors in scan order, swap-removed) and each step's
 *       distances (new tree point against every remaining point, one contiguous stream) computed with SIMD lanes in
 *       {@code sum((a - b)^2)} form, split over the threads when the step is large.
 *       {@code O(n^2 d)} work and {@code O(n)} memory.</li>
 *   <li><b>PCA</b>: the covariance as dot products of centred, transposed columns (SIMD, over threads), then the
 *       reference's Jacobi eigen-solver on the small {@code d x d} matrix.</li>
 * </ul>
 * Results agree with the reference within float tolerance (the contract tests).
 *
 * <p>{@code DensityTree t = new Hdbscan(new FastClustering(runner)).build(points, params);}
 */
public final class FastClustering implements ClusteringOps {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNK_ROWS = 4096;
    /** Neighbours searched beyond {@code minSamples}, so rounding in the search's ranking cannot hide the true one. */
    private static final int CANDIDATE_MARGIN = 8;
    /** Dimensions up to which core distances are computed pair by pair ({@link #directCoreDistances}). */
    static final int DIRECT_KNN_MAX_DIM = 16;
    /** Dimensions up to which L2 core distances come from a k-d tree ({@link KdTreeKnn}): PCA-reduced points. */
    static final int KD_TREE_MAX_DIM = 8;
    /** Remaining points per Prim step below which one thread does the step (the hand-over costs more). */
    private static final int PARALLEL_STEP_WORK = 1 << 16;

    private final ParallelRunner runner;
    private final FastRetrieval retrieval;

    public FastClustering(ParallelRunner runner) {
        this.runner = runner;
        this.retrieval = new FastRetrieval(runner);
    }

    @Override
    public double[] coreDistances(Points points, int minSamples, ClusterMetric metric) {
        ClusteringOps.check(points, minSamples);
        int n = points.n();
        int d = points.dim();
        if (d <= KD_TREE_MAX_DIM && metric == ClusterMetric.L2) {
            double[] kth = new KdTreeKnn(points.data(), n, d).kthSquared(minSamples, runner);
            for (int i = 0; i < n; i++) {
                kth[i] = Math.sqrt(kth[i]);
            }
            return kth;
        }
        if (d <= DIRECT_KNN_MAX_DIM) {
            return directCoreDistances(points, minSamples, metric);
        }
        List<VectorChunk> chunks = CoreDistances.asChunks(points, CHUNK_ROWS);
        Metric m = metric == ClusterMetric.L2 ? Metric.L2 : Metric.COSINE;
        // the top-k scores come from the dot-product form (2 a.b - |a|^2 - |b|^2), whose rounding near 0 is large after
        // the square root: find CANDIDATE_MARGIN extra candidates, then recompute their distances in difference form
        int k = Math.min(n, minSamples + CANDIDATE_MARGIN);
        TopK top = retrieval.search(chunks, new SearchRequest(points.data(), n, d, k, m, null));
        float[] norms = metric == ClusterMetric.COSINE ? norms(points) : null;
        double[] core = new double[n];
        runner.parallelFor(runner.threads(), (long) n * k * d, t -> {
            double[] dist = new double[k];
            for (int q = (int) ((long) n * t / runner.threads()); q < (long) n * (t + 1) / runner.threads(); q++) {
                int hits = top.hits(q);
                for (int i = 0; i < hits; i++) {
                    int j = top.chunk(q, i) * CHUNK_ROWS + top.row(q, i);
                    dist[i] = j == q ? 0 : distance(points.data(), q, j, d, metric, norms);
                }
                java.util.Arrays.sort(dist, 0, hits);
                core[q] = dist[minSamples - 1];
            }
        });
        return core;
    }

    /**
     * Core distances of low-dimensional points (PCA-reduced): every pair in difference form, the {@code minSamples}
     * smallest kept in a sorted array per point (insertion), query ranges over threads. Cheaper than the blocked
     * top-k when a distance costs a few instructions.
     */
    private double[] directCoreDistances(Points points, int minSamples, ClusterMetric metric) {
        int n = points.n();
        int d = points.dim();
        float[] x = points.data();
        float[] norms = metric == ClusterMetric.COSINE ? norms(points) : null;
        double[] core = new double[n];
        int tasks = runner.threads();
        runner.parallelFor(tasks, (long) n * n * d, t -> {
            double[] nearest = new double[minSamples];
            for (int q = (int) ((long) n * t / tasks); q < (long) n * (t + 1) / tasks; q++) {
                java.util.Arrays.fill(nearest, Double.POSITIVE_INFINITY);
                nearest[0] = 0; // the point itself
                for (int j = 0; j < n; j++) {
                    if (j == q) {
                        continue;
                    }
                    double dist = key(x, q, j, d, metric, norms);
                    if (dist < nearest[minSamples - 1]) {
                        int at = minSamples - 1;
                        while (at > 0 && nearest[at - 1] > dist) {
                            nearest[at] = nearest[at - 1];
                            at--;
                        }
                        nearest[at] = dist;
                    }
                }
                core[q] = fromKey(nearest[minSamples - 1], metric);
            }
        });
        return core;
    }

    /**
     * A number ordered as the distance, cheaper to compute: the squared distance for L2 (no square root in the
     * inner loops), the distance itself for cosine.
     */
    private static double key(float[] x, int i, int j, int d, ClusterMetric metric, float[] norms) {
        return metric == ClusterMetric.L2 ? squaredL2(x, i * d, j * d, d)
                : cosineDistance(x, i * d, j * d, d, norms[i], norms[j]);
    }

    private static double fromKey(double key, ClusterMetric metric) {
        return metric == ClusterMetric.L2 ? Math.sqrt(key) : key;
    }

    private static double toKey(double distance, ClusterMetric metric) {
        return metric == ClusterMetric.L2 ? distance * distance : distance;
    }

    private static double distance(float[] x, int i, int j, int d, ClusterMetric metric, float[] norms) {
        return metric == ClusterMetric.L2 ? Math.sqrt(squaredL2(x, i * d, j * d, d))
                : cosineDistance(x, i * d, j * d, d, norms[i], norms[j]);
    }

    @Override
    public SpanningTree spanningTree(Points points, double[] core, ClusterMetric metric) {
        int n = points.n();
        int d = points.dim();
        if (n == 0) {
            return new SpanningTree(new int[0], new int[0], new double[0]);
        }
        float[] norms = metric == ClusterMetric.COSINE ? norms(points) : new float[n];
        // the points not yet in the tree, kept compact and in scan order: their ids, vectors, core keys, norms, and
        // best edge so far; a point joining the tree is replaced by the last one (swap-remove), so every step reads
        // one contiguous block of memory
        int[] remaining = new int[n - 1];
        float[] rows = new float[(n - 1) * d];
        double[] remCore = new double[n - 1];
        float[] remNorm = new float[n - 1];
        double[] best = new double[n - 1];
        int[] bestFrom = new int[n - 1];
        for (int i = 0; i < n - 1; i++) {
            remaining[i] = i + 1;
            remCore[i] = toKey(core[i + 1], metric);
            remNorm[i] = norms[i + 1];
            best[i] = Double.POSITIVE_INFINITY;
        }
        System.arraycopy(points.data(), d, rows, 0, (n - 1) * d);
        int[] from = new int[n - 1];
        int[] to = new int[n - 1];
        double[] weight = new double[n - 1];
        int threads = runner.threads();
        int[] argmin = new int[threads];
        float[] cur = points.row(0);
        double[] curCore = {toKey(core[0], metric)};
        float[] curNorm = {norms[0]};
        int[] curId = {0};
        for (int e = 0, left = n - 1; e < n - 1; e++, left--) {
            final int count = left;
            int tasks = (long) count * d >= PARALLEL_STEP_WORK ? threads : 1;
            runner.parallelFor(tasks, t -> {
                int lo = (int) ((long) count * t / tasks);
                int hi = (int) ((long) count * (t + 1) / tasks);
                int bestAt = -1;
                double bestW = Double.POSITIVE_INFINITY;
                for (int r = lo; r < hi; r++) {
                    double dist = metric == ClusterMetric.L2 ? squaredL2(cur, 0, rows, r * d, d)
                            : cosineDistance(cur, rows, r * d, d, curNorm[0], remNorm[r]);
                    double mr = Math.max(dist, Math.max(curCore[0], remCore[r]));
                    if (mr < best[r]) {
                        best[r] = mr;
                        bestFrom[r] = curId[0];
                    }
                    if (bestAt < 0 || best[r] < bestW) {
                        bestW = best[r];
                        bestAt = r;
                    }
                }
                argmin[t] = bestAt;
            });
            int pick = argmin[0];
            for (int t = 1; t < tasks; t++) {
                if (argmin[t] >= 0 && (pick < 0 || best[argmin[t]] < best[pick])) {
                    pick = argmin[t];
                }
            }
            from[e] = bestFrom[pick];
            to[e] = remaining[pick];
            weight[e] = fromKey(best[pick], metric);
            // the picked point becomes the current one; the last remaining point takes its slot
            curId[0] = remaining[pick];
            curCore[0] = remCore[pick];
            curNorm[0] = remNorm[pick];
            System.arraycopy(rows, pick * d, cur, 0, d);
            int last = count - 1;
            remaining[pick] = remaining[last];
            remCore[pick] = remCore[last];
            remNorm[pick] = remNorm[last];
            best[pick] = best[last];
            bestFrom[pick] = bestFrom[last];
            System.arraycopy(rows, last * d, rows, pick * d, d);
        }
        return SpanningTree.sorted(from, to, weight);
    }

    @Override
    public Pca principalComponents(Points points, int components) {
        int n = points.n();
        int d = points.dim();
        double[] mean = Pca.mean(points);
        float[] cols = new float[d * n]; // centred, transposed: column k at [k * n, (k + 1) * n)
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                cols[k * n + i] = (float) (points.data()[i * d + k] - mean[k]);
            }
        }
        double[] cov = new double[d * d];
        double norm = Math.max(1, n - 1);
        runner.parallelFor(d, (long) d * d * n / 2, a -> {
            for (int b = a; b < d; b++) {
                double v = dot(cols, a * n, cols, b * n, n) / norm;
                cov[a * d + b] = v;
                cov[b * d + a] = v;
            }
        });
        return Pca.fromCovariance(mean, cov, components);
    }

    private static float[] norms(Points points) {
        int d = points.dim();
        float[] out = new float[points.n()];
        for (int i = 0; i < points.n(); i++) {
            out[i] = (float) Math.sqrt(dot(points.data(), i * d, points.data(), i * d, d));
        }
        return out;
    }

    /** {@code sum((x[a..] - x[b..])^2)} over {@code d} values: SIMD lanes, then the tail. */
    static double squaredL2(float[] x, int a, int b, int d) {
        return squaredL2(x, a, x, b, d);
    }

    /** {@code sum((x[a..] - y[b..])^2)} over {@code d} values. */
    static double squaredL2(float[] x, int a, float[] y, int b, int d) {
        if (d < S.length()) { // too short for a vector: plain loop (PCA-reduced points)
            float s = 0;
            for (int k = 0; k < d; k++) {
                float diff = x[a + k] - y[b + k];
                s += diff * diff;
            }
            return s;
        }
        FloatVector acc = FloatVector.zero(S);
        int k = 0;
        for (int upper = S.loopBound(d); k < upper; k += S.length()) {
            FloatVector diff = FloatVector.fromArray(S, x, a + k).sub(FloatVector.fromArray(S, y, b + k));
            acc = diff.fma(diff, acc);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; k < d; k++) {
            float diff = x[a + k] - y[b + k];
            s += diff * diff;
        }
        return s;
    }

    private static double cosineDistance(float[] x, int a, int b, int d, float na, float nb) {
        return cosineDistance(x, x, a, b, d, na, nb);
    }

    /** {@code 1 - cos} of {@code x[0..d)} and {@code y[b..b+d)}. */
    private static double cosineDistance(float[] x, float[] y, int b, int d, float na, float nb) {
        return cosineDistance(x, y, 0, b, d, na, nb);
    }

    private static double cosineDistance(float[] x, float[] y, int a, int b, int d, float na, float nb) {
        if (na == 0 || nb == 0) {
            return 1;
        }
        return Math.max(0, 1 - dot(x, a, y, b, d) / ((double) na * nb));
    }

    static double dot(float[] x, int a, float[] y, int b, int len) {
        if (len < S.length()) {
            float s = 0;
            for (int k = 0; k < len; k++) {
                s += x[a + k] * y[b + k];
            }
            return s;
        }
        FloatVector acc = FloatVector.zero(S);
        int k = 0;
        for (int upper = S.loopBound(len); k < upper; k += S.length()) {
            acc = FloatVector.fromArray(S, x, a + k).fma(FloatVector.fromArray(S, y, b + k), acc);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; k < len; k++) {
            s += x[a + k] * y[b + k];
        }
        return s;
    }

    @Override
    public String toString() {
        return "cpu-fast(" + runner.threads() + " threads)";
    }
}
