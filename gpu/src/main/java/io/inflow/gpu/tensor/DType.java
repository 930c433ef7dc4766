package io.inflow.gpu.tensor;

/**
 * Element types a {@link Tensor} can hold. Only what the encoders need today: float32 activations and
 * weights, int32 token ids and lengths (the layout Arrow's {@code IntVector} uses).
 *
 * <p>{@code long bytes = DType.FLOAT32.byteSize() * tensor.elementCount();}
 */
public enum DType {
    FLOAT32(4),
    INT32(4);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }
}
