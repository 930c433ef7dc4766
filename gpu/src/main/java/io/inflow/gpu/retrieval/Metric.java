package io.inflow.gpu.retrieval;

/**
 * How a query scores a document. Every metric is "higher is better": {@link #L2} scores the negative squared
 * Euclidean distance, so one top-k selection serves all three (report the distance as {@code -score}).
 *
 * <p>{@code float s = Metric.COSINE.score(dot, queryNorm, docNorm, queryNormSq, docNormSq);}
 */
public enum Metric {
    /** {@code q . d}. */
    INNER_PRODUCT,
    /** {@code q . d / (|q| |d|)}; 0 when either vector is zero. */
    COSINE,
    /** {@code -|q - d|^2 = 2 q . d - |q|^2 - |d|^2}. */
    L2;

    /**
     * The score from a dot product and the norms (all in double: the reference's precision).
     *
     * @param qNorm {@code |q|}
     * @param dNorm {@code |d|} (of the stored, dequantized vector)
     */
    public double score(double dot, double qNorm, double dNorm) {
        return switch (this) {
            case INNER_PRODUCT -> dot;
            case COSINE -> qNorm == 0 || dNorm == 0 ? 0 : dot / (qNorm * dNorm);
            case L2 -> 2 * dot - qNorm * qNorm - dNorm * dNorm;
        };
    }

    /** Parses {@code inner_product}, {@code cosine} or {@code l2} (any case); the error lists the choices. */
    public static Metric parse(String name) {
        for (Metric m : values()) {
            if (m.name().equalsIgnoreCase(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown metric '" + name + "'; use inner_product, cosine or l2");
    }
}
