package io.inflow.gpu.retrieval;

/**
 * How a document's per-token vectors are stored for MaxSim ({@link TokenSet}). Every token vector has its own scale;
 * MaxSim always reads the stored (dequantized) value with float32 query tokens.
 *
 * <ul>
 *   <li>{@link #FLOAT32}: uncompressed, 4 bytes per value (the baseline the compressed forms are measured against);</li>
 *   <li>{@link #INT8}: {@code scale = max|x| / 127}, {@code q = round(x / scale)} in [-127, 127], value
 *       {@code scale * q}: {@code dim + 4} bytes per token;</li>
 *   <li>{@link #BIT1}: the sign of each value ({@code x >= 0} is +1, else -1) and {@code scale = mean|x|}, value
 *       {@code scale * sign}: {@code ceil(dim / 8) + 4} bytes per token (ColBERT-style binarization; the scale that
 *       minimises the squared error of a sign code).</li>
 * </ul>
 *
 * <p>{@code TokenStorage s = TokenStorage.parse("int8");}
 */
public enum TokenStorage {
    FLOAT32,
    INT8,
    BIT1;

    /** Bytes of one stored token vector of {@code dim} values (scale included). */
    public int bytesPerToken(int dim) {
        return switch (this) {
            case FLOAT32 -> 4 * dim;
            case INT8 -> 4 + dim;
            case BIT1 -> 4 + (dim + 7) / 8;
        };
    }

    /** Parses {@code float32}, {@code int8} or {@code bit1} (any case); the error lists the choices. */
    public static TokenStorage parse(String name) {
        for (TokenStorage s : values()) {
            if (s.name().equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown token storage '" + name + "'; use float32, int8 or bit1");
    }
}
