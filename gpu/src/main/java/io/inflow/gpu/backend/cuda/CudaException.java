package io.inflow.gpu.backend.cuda;

/**
 * A CUDA driver call failed. The message names the call, the kernel (or {@code -} for calls outside a kernel),
 * the shapes involved and the driver's error name; {@link #result()} is the raw {@code CUresult}.
 *
 * <p>{@code CudaCheck.check(cuLaunchKernel(...), "cuLaunchKernel", "gemm_bf16_f32", "M=256 N=384 K=384");}
 */
public class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int result;

    public CudaException(int result, String message) {
        super(message);
        this.result = result;
    }

    /** The {@code CUresult} code ({@link jcuda.driver.CUresult}). */
    public int result() {
        return result;
    }
}
