package io.inflow.gpu.backend.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Whether this process can use CUDA: loads the JCuda driver binding (which needs {@code libcuda.so.1}), calls
 * {@code cuInit} and counts devices, once per process. Never throws: a missing library
 * ({@link UnsatisfiedLinkError}), {@code CUDA_ERROR_NO_DEVICE} or {@code CUDA_ERROR_INSUFFICIENT_DRIVER} become
 * an unavailable result with a one-line reason.
 *
 * <p>{@code if (CudaAvailability.probe().available()) { ... } else { log.info(CudaAvailability.probe().reason()); }}
 */
public final class CudaAvailability {
    /** What the probe found: {@code available} with the device count and driver version, or the reason why not. */
    public record Result(boolean available, String reason, int deviceCount, int driverVersion) {
    }

    /** {@code CUDA_ERROR_INSUFFICIENT_DRIVER} (35), which JCuda 12.6's {@code CUresult} does not name. */
    static final int INSUFFICIENT_DRIVER = 35;

    private static volatile Result cached;

    private CudaAvailability() {
    }

    /** The probe result, computed on first use. */
    public static Result probe() {
        Result r = cached;
        if (r == null) {
            synchronized (CudaAvailability.class) {
                if (cached == null) {
                    cached = run();
                }
                r = cached;
            }
        }
        return r;
    }

    private static Result run() {
        int init;
        try {
            init = JCudaDriver.cuInit(0);
        } catch (LinkageError e) {   // UnsatisfiedLinkError, or NoClassDefFoundError after a failed class init
            return new Result(false, "no CUDA driver (libcuda.so.1) was found: " + shortDetail(e), 0, 0);
        }
        if (init == CUresult.CUDA_ERROR_NO_DEVICE) {
            return new Result(false, "no CUDA device: cuInit returned CUDA_ERROR_NO_DEVICE", 0, 0);
        }
        if (init == INSUFFICIENT_DRIVER || init == CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH
                || init == CUresult.CUDA_ERROR_STUB_LIBRARY) {
            return new Result(false, "no usable CUDA driver: cuInit returned "
                    + (init == INSUFFICIENT_DRIVER ? "CUDA_ERROR_INSUFFICIENT_DRIVER" : CudaCheck.errorName(init))
                    + " (the driver is too old, mismatched with its kernel module, or libcuda.so.1 is the toolkit's"
                    + " stub; install an R580 or newer NVIDIA driver)", 0, 0);
        }
        if (init != CUresult.CUDA_SUCCESS) {
            return new Result(false, "cuInit failed with " + CudaCheck.errorName(init), 0, 0);
        }
        int[] count = {0};
        int rc = JCudaDriver.cuDeviceGetCount(count);
        if (rc != CUresult.CUDA_SUCCESS || count[0] == 0) {
            return new Result(false, "no CUDA device: cuDeviceGetCount returned " + count[0] + " devices ("
                    + CudaCheck.errorName(rc) + ")", 0, 0);
        }
        int[] version = {0};
        JCudaDriver.cuDriverGetVersion(version);
        return new Result(true, count[0] + " CUDA device(s), driver API " + version[0], count[0], version[0]);
    }

    /** The useful line of a native loading error (JCuda's messages run to a dozen lines). */
    static String shortDetail(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m == null) {
                continue;
            }
            for (String line : m.split("\n")) {
                if (line.contains("libcuda")) {
                    return line.trim();
                }
            }
        }
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return m.split("\n")[0].trim();
    }
}
