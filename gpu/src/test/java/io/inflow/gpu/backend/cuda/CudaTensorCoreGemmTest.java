package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.cuda.kernels.GemmKernel.Epilogue;
import io.inflow.gpu.tensor.DType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code gemm_tc.cu} on a GPU: the emulated suite's cases ({@link EmulatedTensorCoreGemmTest}: edge shapes, every
 * epilogue, both outputs and tile variants; MiniLM shapes) against the same double-precision reference and bounds
 * ({@link TensorCoreGemmCase}). Skipped with the reason where no device exists; run by the device kit.
 */
@Tag("gpu")
class CudaTensorCoreGemmTest {
    @Test
    void edgeShapesEveryEpilogueOutputAndTileVariant() {
        try (TensorCoreGemmCase c = new TensorCoreGemmCase(RealDevice.openOrSkip())) {
            long seed = 1;
            for (int[] s : new int[][] {{200, 136, 72}, {1, 8, 8}, {70, 131, 40}}) {
                for (int tile : new int[] {64, 128}) {
                    for (DType out : new DType[] {DType.FLOAT32, DType.BFLOAT16}) {
                        for (Epilogue e : Epilogue.values()) {
                            if (e != Epilogue.BIAS_RESIDUAL || out == DType.FLOAT32) {
                                c.run(s[0], s[1], s[2], e, out, tile, seed % 2 == 0, seed++);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void miniLmShapesAt2048Tokens() {
        try (TensorCoreGemmCase c = new TensorCoreGemmCase(RealDevice.openOrSkip())) {
            c.run(2048, 384, 384, Epilogue.BIAS, DType.FLOAT32, 0, true, 101);
            c.run(2048, 1536, 384, Epilogue.BIAS_GELU, DType.BFLOAT16, 0, true, 102);
            c.run(2048, 384, 1536, Epilogue.BIAS_RESIDUAL, DType.FLOAT32, 0, true, 103);
            c.run(2048, 1152, 384, Epilogue.BIAS, DType.BFLOAT16, 0, true, 104);
        }
    }
}
