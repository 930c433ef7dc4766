package io.inflow.gpu.backend.cpu.fast;

import java.util.Arrays;

/**
 * Exact k-nearest-neighbour distances of low-dimensional points (PCA-reduced embeddings) by a k-d tree: points split
 * at the median of the widest dimension down to leaves of {@link #LEAF} points; a query descends to its leaf first,
 * then visits other nodes only while the node's bounding box is closer than the k-th distance found. Squared L2
 * throughout. For a handful of dimensions this needs {@code O(n log n)} distance computations instead of
 * {@code O(n^2)}; above about 16 dimensions boxes stop pruning and brute force wins ({@code FastClustering}).
 *
 * <pre>{@code
 * double[] kth = new KdTreeKnn(data, n, 5).kthSquared(minSamples, runner);   // self counted as the first neighbour
 * }</pre>
 */
final class KdTreeKnn {

    /** Points per leaf: small enough to prune, large enough that the leaf loop dominates the bookkeeping. */
    static final int LEAF = 16;

    private final float[] x;
    private final int n;
    private final int d;
    private final int[] order; // point ids, each node's points contiguous
    // nodes in arrays: [lo, hi) into order, children (-1 for a leaf), bounding box
    private int[] lo;
    private int[] hi;
    private int[] left;
    private int[] right;
    private float[] boxMin;
    private float[] boxMax;
    private int nodes;

    KdTreeKnn(float[] x, int n, int d) {
        this.x = x;
        this.n = n;
        this.d = d;
        this.order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        int cap = Math.max(1, 2 * (n / LEAF + 1) + 1);
        lo = new int[cap];
        hi = new int[cap];
        left = new int[cap];
        right = new int[cap];
        boxMin = new float[cap * d];
        boxMax = new float[cap * d];
        if (n > 0) {
            build(0, n);
        }
    }

    private int build(int from, int to) {
        int node = nodes++;
        if (node >= lo.length) {
            grow();
        }
        lo[node] = from;
        hi[node] = to;
        int widest = 0;
        float widestSpan = -1;
        for (int k = 0; k < d; k++) {
            float mn = Float.POSITIVE_INFINITY;
            float mx = Float.NEGATIVE_INFINITY;
            for (int i = from; i < to; i++) {
                float v = x[order[i] * d + k];
                mn = Math.min(mn, v);
                mx = Math.max(mx, v);
            }
            boxMin[node * d + k] = mn;
            boxMax[node * d + k] = mx;
            if (mx - mn > widestSpan) {
                widestSpan = mx - mn;
                widest = k;
            }
        }
        if (to - from <= LEAF || widestSpan <= 0) {
            left[node] = -1;
            right[node] = -1;
            return node;
        }
        int mid = (from + to) >>> 1;
        select(from, to - 1, mid, widest);
        int l = build(from, mid);
        int r = build(mid, to);
        left[node] = l;
        right[node] = r;
        return node;
    }

    private void grow() {
        int cap = lo.length * 2;
        lo = Arrays.copyOf(lo, cap);
        hi = Arrays.copyOf(hi, cap);
        left = Arrays.copyOf(left, cap);
        right = Arrays.copyOf(right, cap);
        boxMin = Arrays.copyOf(boxMin, cap * d);
        boxMax = Arrays.copyOf(boxMax, cap * d);
    }

    /** Quickselect on {@code order[a..b]} by coordinate {@code k}: the {@code m}-th smallest lands at {@code m}. */
    private void select(int a, int b, int m, int k) {
        while (a < b) {
            float pivot = x[order[(a + b) >>> 1] * d + k];
            int i = a;
            int j = b;
            while (i <= j) {
                while (x[order[i] * d + k] < pivot) {
                    i++;
                }
                while (x[order[j] * d + k] > pivot) {
                    j--;
                }
                if (i <= j) {
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                    i++;
                    j--;
                }
            }
            if (m <= j) {
                b = j;
            } else if (m >= i) {
                a = i;
            } else {
                return;
            }
        }
    }

    /** The squared distance of every point to its {@code k}-th nearest neighbour, itself counted first. */
    double[] kthSquared(int k, ParallelRunner runner) {
        double[] out = new double[n];
        int tasks = runner.threads();
        runner.parallelFor(tasks, (long) n * k * d * 64, t -> {
            double[] heap = new double[k]; // sorted ascending, the k smallest so far
            int[] stack = new int[64 + 2 * nodes / Math.max(1, LEAF)];
            for (int q = (int) ((long) n * t / tasks); q < (long) n * (t + 1) / tasks; q++) {
                Arrays.fill(heap, Double.POSITIVE_INFINITY);
                heap[0] = 0; // the point itself
                query(q, heap, stack);
                out[q] = heap[k - 1];
            }
        });
        return out;
    }

    private void query(int q, double[] heap, int[] stack) {
        int k = heap.length;
        int top = 0;
        stack[top++] = 0;
        while (top > 0) {
            int node = stack[--top];
            if (boxDistance(q, node) >= heap[k - 1]) {
                continue;
            }
            if (left[node] < 0) {
                for (int i = lo[node]; i < hi[node]; i++) {
                    int j = order[i];
                    if (j == q) {
                        continue;
                    }
                    double dist = 0;
                    for (int c = 0; c < d; c++) {
                        double diff = (double) x[q * d + c] - x[j * d + c];
                        dist += diff * diff;
                    }
                    if (dist < heap[k - 1]) {
                        int at = k - 1;
                        while (at > 0 && heap[at - 1] > dist) {
                            heap[at] = heap[at - 1];
                            at--;
                        }
                        heap[at] = dist;
                    }
                }
                continue;
            }
            // nearer child last, so it is popped first
            int l = left[node];
            int r = right[node];
            // each pop pushes at most two, so the stack never holds more than the tree's depth + 2
            if (boxDistance(q, l) <= boxDistance(q, r)) {
                stack[top++] = r;
                stack[top++] = l;
            } else {
                stack[top++] = l;
                stack[top++] = r;
            }
        }
    }

    /** Squared distance from point {@code q} to the node's bounding box (0 inside). */
    private double boxDistance(int q, int node) {
        double s = 0;
        for (int c = 0; c < d; c++) {
            double v = x[q * d + c];
            double mn = boxMin[node * d + c];
            double mx = boxMax[node * d + c];
            double diff = v < mn ? mn - v : v > mx ? v - mx : 0;
            s += diff * diff;
        }
        return s;
    }
}
