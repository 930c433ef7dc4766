package io.inflow.gpu.cluster;

/**
 * The distance the density tree is built on. {@link #L2}: Euclidean; {@link #COSINE}: {@code 1 - cos(a, b)} (0 for
 * identical directions, 2 for opposite ones; a zero vector is at distance 1 from everything), as Tribuo's and ELKI's
 * cosine distances.
 *
 * <p>{@code double d = ClusterMetric.L2.distance(points, 3, 7);}
 */
public enum ClusterMetric {
    L2,
    COSINE;

    /** The distance between rows {@code i} and {@code j} of {@code points}, in double precision. */
    public double distance(Points points, int i, int j) {
        return distance(points.data(), i * points.dim(), points.data(), j * points.dim(), points.dim());
    }

    /** The distance between {@code x} and row {@code j} of {@code points}. */
    public double distance(float[] x, Points points, int j) {
        return distance(x, 0, points.data(), j * points.dim(), points.dim());
    }

    /** The distance between {@code d} values at {@code x[a..]} and at {@code y[b..]}, in double precision. */
    public double distance(float[] x, int a, float[] y, int b, int d) {
        if (this == L2) {
            double s = 0;
            for (int k = 0; k < d; k++) {
                double diff = (double) x[a + k] - y[b + k];
                s += diff * diff;
            }
            return Math.sqrt(s);
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int k = 0; k < d; k++) {
            dot += (double) x[a + k] * y[b + k];
            na += (double) x[a + k] * x[a + k];
            nb += (double) y[b + k] * y[b + k];
        }
        if (na == 0 || nb == 0) {
            return 1;
        }
        return Math.max(0, 1 - dot / Math.sqrt(na * nb));
    }

    /** Parses {@code l2} or {@code cosine} (any case); the error lists the choices. */
    public static ClusterMetric parse(String name) {
        for (ClusterMetric m : values()) {
            if (m.name().equalsIgnoreCase(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown clustering metric '" + name + "'; use l2 or cosine");
    }
}
