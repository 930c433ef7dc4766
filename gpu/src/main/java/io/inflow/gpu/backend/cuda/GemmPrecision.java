package io.inflow.gpu.backend.cuda;

/**
 * What the CUDA GEMM rounds its float32 inputs to before the tensor cores multiply them (products accumulate in
 * float32 either way), and the type of the Linear weights the backend keeps resident in that precision
 * ({@link #roundKernel} rounds a weight once; {@link #residentKernel} reads it as is).
 *
 * <p>{@code CudaBackendConfig.builder().gemmPrecision(GemmPrecision.FP16).build()}
 */
public enum GemmPrecision {
    /** bfloat16: 8-bit significand (relative rounding error 2^-8), float32's range: no overflow. The default. */
    BF16("gemm_bf16_f32", "gemm_bf16_f32_w16", "round_bf16_f32"),
    /** float16: 11-bit significand (2^-11, 8x finer), but overflows past 65504: only for inputs known to be small. */
    FP16("gemm_f16_f32", "gemm_f16_f32_w16", "round_f16_f32");

    /** Bytes of one resident weight element. */
    public static final int RESIDENT_BYTES = 2;

    private final String kernel;
    private final String residentKernel;
    private final String roundKernel;

    GemmPrecision(String kernel, String residentKernel, String roundKernel) {
        this.kernel = kernel;
        this.residentKernel = residentKernel;
        this.roundKernel = roundKernel;
    }

    /** The kernel name in {@code gemm.cu}. */
    public String kernel() {
        return kernel;
    }

    /** The GEMM in {@code gemm.cu} whose B operand is a weight already rounded to this precision. */
    public String residentKernel() {
        return residentKernel;
    }

    /** The kernel in {@code gemm.cu} that rounds float32 values to this precision (round to nearest even). */
    public String roundKernel() {
        return roundKernel;
    }
}
