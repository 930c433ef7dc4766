package io.inflow.gpu.tensor;

/**
 * Element types a {@link Tensor} can hold. Only what the encoders need today: float32 activations and
 * weights, int32 token ids, lengths and offsets (the layout Arrow's {@code IntVector} uses), and uint8 image samples
 * (the data buffer of Arrow's {@code VarBinaryVector}, read as 0..255), int8 for quantized tensors, bfloat16
 * activations on the CUDA backend.
 *
 * <p>{@code long bytes = DType.FLOAT32.byteSize() * tensor.elementCount();}
 */
public enum DType {
    FLOAT32(4),
    INT32(4),
    /** Unsigned 8-bit: decoded image samples; Shiftmax probabilities of the integer-only path. */
    UINT8(1),
    /** Signed 8-bit, two's complement: quantized activations and weights of the integer-only path. */
    INT8(1),
    /**
     * bfloat16 (the upper half of a float32): activations between the CUDA encoder's kernels when its GEMM precision
     * is BF16 ({@code TransformerOps.activationType()}); device memory only, never on the CPU backends.
     */
    BFLOAT16(2);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }
}
