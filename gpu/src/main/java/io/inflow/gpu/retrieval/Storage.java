package io.inflow.gpu.retrieval;

/**
 * How document vectors are stored in a {@link VectorChunk}. Scores are always computed on the stored (dequantized)
 * values with float32 queries.
 *
 * <p>{@code VectorChunk c = new VectorChunk(Storage.INT8, 384, 4096);}
 */
public enum Storage {
    /** 4 bytes per value. */
    FLOAT32(4),
    /** IEEE half precision, 2 bytes per value (round to nearest even). */
    FLOAT16(2),
    /**
     * 1 byte per value with one float scale per vector: {@code scale = max|x| / 127}, {@code q = round(x / scale)}
     * clamped to [-127, 127]; the value is {@code scale * q}.
     */
    INT8(1);

    private final int bytesPerValue;

    Storage(int bytesPerValue) {
        this.bytesPerValue = bytesPerValue;
    }

    /** Bytes per stored value (the scale of {@link #INT8} not counted). */
    public int bytesPerValue() {
        return bytesPerValue;
    }

    /** Parses {@code float32}, {@code float16} or {@code int8} (any case); the error lists the choices. */
    public static Storage parse(String name) {
        for (Storage s : values()) {
            if (s.name().equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown storage '" + name + "'; use float32, float16 or int8");
    }
}
