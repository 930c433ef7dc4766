package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.Backend;

/**
 * Test access to the CUDA backend's package-private state from tests of other packages (the encoder tests): the
 * resident weight copies ({@link ResidentWeights}).
 *
 * <p>{@code CudaTestAccess.releaseResidentWeights(backend);   // later GEMMs round the float32 weights per call}
 */
public final class CudaTestAccess {
    private CudaTestAccess() {
    }

    /** {linear weights, fused self-attention projections} held as 16-bit copies now. */
    public static int[] residentWeights(Backend cuda) {
        return ((CudaBackend) cuda).residentWeights();
    }

    /**
     * Frees the resident copies: the backend runs the per-call rounding path and three QKV GEMMs until weights are
     * declared again.
     */
    public static void releaseResidentWeights(Backend cuda) {
        ((CudaBackend) cuda).releaseResidentWeights();
    }

    /** {eager passes, graphs captured, graph replays} of the backend's recorded forward passes ({@code CudaGraphs}). */
    public static long[] graphCounts(Backend cuda) {
        return ((CudaBackend) cuda).graphCounts();
    }
}
