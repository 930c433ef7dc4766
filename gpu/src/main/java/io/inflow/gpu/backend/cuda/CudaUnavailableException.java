package io.inflow.gpu.backend.cuda;

/**
 * The CUDA backend cannot start on this machine: no driver library ({@code libcuda.so.1}), no device, a driver too
 * old, or a device too old. The message says what was found and what to change. {@code BackendKind.AUTO} catches
 * it and uses the CPU; {@code BackendKind.CUDA} lets it through.
 *
 * <p>{@code try { b = CudaBackend.create(config); } catch (CudaUnavailableException e) { b = cpu; }}
 */
public class CudaUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
