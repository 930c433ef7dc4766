package io.inflow.gpu.backend.cuda;

/**
 * What the CUDA GEMM rounds its float32 inputs to before the tensor cores multiply them (products accumulate in
 * float32 either way).
 *
 * <p>{@code CudaBackendConfig.builder().gemmPrecision(GemmPrecision.FP16).build()}
 */
public enum GemmPrecision {
    /** bfloat16: 8-bit significand (relative rounding error 2^-8), float32's range: no overflow. The default. */
    BF16("gemm_bf16_f32"),
    /** float16: 11-bit significand (2^-11, 8x finer), but overflows past 65504: only for inputs known to be small. */
    FP16("gemm_f16_f32");

    private final String kernel;

    GemmPrecision(String kernel) {
        this.kernel = kernel;
    }

    /** The kernel name in {@code gemm.cu}. */
    public String kernel() {
        return kernel;
    }
}
