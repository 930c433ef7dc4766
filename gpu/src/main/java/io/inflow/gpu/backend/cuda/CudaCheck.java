package io.inflow.gpu.backend.cuda;

import jcuda.driver.CUresult;

/**
 * Checks every CUDA driver result (the ggml {@code CUDA_CHECK} habit): a failure throws a {@link CudaException}
 * naming the call, the kernel and the shapes, so an error is traceable to the launch that caused it. Errors of
 * asynchronous work surface at the next checked call; set {@code inflow.cuda.sync-after-launch=true} to
 * synchronise after each launch and see them where they happen.
 *
 * <p>{@code CudaCheck.check(JCudaDriver.cuMemAlloc(ptr, bytes), "cuMemAlloc", "-", bytes + " bytes");}
 */
public final class CudaCheck {
    private CudaCheck() {
    }

    /** Throws unless {@code result} is {@code CUDA_SUCCESS}. */
    public static void check(int result, String call, String kernel, String shapes) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(result, describe(result, call, kernel, shapes));
        }
    }

    /** The message {@link #check} uses: {@code "cuLaunchKernel failed with CUDA_ERROR_X (n) [kernel k, shapes s]"}. */
    public static String describe(int result, String call, String kernel, String shapes) {
        return call + " failed with " + errorName(result) + " (" + result + ") [kernel " + kernel + ", shapes "
                + shapes + "]" + hint(result);
    }

    /** The {@code CUresult} constant name, without touching the native library. */
    public static String errorName(int result) {
        return CUresult.stringFor(result);
    }

    private static String hint(int result) {
        return switch (result) {
            case CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION, CUresult.CUDA_ERROR_NO_BINARY_FOR_GPU ->
                    ": the kernels are built by nvcc 13.0 for sm_80 and sm_90 with compute_90 PTX; they need an"
                            + " R580+ driver and a GPU of compute capability 8.0 or newer";
            case CUresult.CUDA_ERROR_OUT_OF_MEMORY ->
                    ": the device has less free memory than asked; lower inflow.cuda.pool-bytes";
            case CUresult.CUDA_ERROR_LAUNCH_FAILED, CUresult.CUDA_ERROR_ILLEGAL_ADDRESS ->
                    ": a kernel failed; rerun with -Dinflow.cuda.sync-after-launch=true to find which";
            default -> "";
        };
    }
}
