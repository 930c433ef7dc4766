package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.cuda.kernels.GemmKernel;
import io.inflow.gpu.backend.cuda.kernels.GemmKernel.Epilogue;
import io.inflow.gpu.backend.cuda.kernels.GemmTcKernel;
import io.inflow.gpu.backend.cuda.kernels.GemmTcTestAccess;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.EmulatedDevice;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code gemm_tc.cu} (BF16 activations x resident BF16 weight, mma.sync m16n8k16 with a 3-stage cp.async pipeline)
 * through {@link GemmTcKernel} on the emulated device, against a double-precision reference on the same bf16 inputs
 * with the named bounds of {@link TensorCoreGemmCase}: edge shapes (M, N not multiples of the 128 x 128 / 64 x 128
 * tiles, N odd, K an odd multiple of 8 and a single 8), every epilogue, both output types, both tile variants, W as a
 * BFLOAT16 tensor and as ResidentWeights' UINT8 bytes; MiniLM-sized shapes with the launcher's own tile choice; the
 * launcher's refusals. Planted bugs: {@link EmulatedTensorCoreGemmMutationTest}.
 */
class EmulatedTensorCoreGemmTest {
    private static final int[][] EDGE_SHAPES = {{200, 136, 72}, {1, 8, 8}, {70, 131, 40}};

    @Test
    void everyEpilogueOutputAndTileVariantOnEdgeShapes() {
        CountingDeviceApi device = new CountingDeviceApi(EmulatedDevice.sharedOrSkip());
        try (TensorCoreGemmCase c = new TensorCoreGemmCase(device)) {
            long seed = 1;
            for (int[] s : EDGE_SHAPES) {
                for (int tile : new int[] {64, 128}) {
                    for (DType out : new DType[] {DType.FLOAT32, DType.BFLOAT16}) {
                        for (Epilogue e : Epilogue.values()) {
                            if (e == Epilogue.BIAS_RESIDUAL && out == DType.BFLOAT16) {
                                continue;
                            }
                            device.reset();
                            c.run(s[0], s[1], s[2], e, out, tile, seed % 2 == 0, seed++);
                            assertThat(device.launchesByKernel()).containsExactly(Map.entry(kernel(out, tile), 1));
                        }
                    }
                }
            }
        }
    }

    @Test
    void miniLmShapesWithTheLaunchersTileChoice() {
        CountingDeviceApi device = new CountingDeviceApi(EmulatedDevice.sharedOrSkip());
        try (TensorCoreGemmCase c = new TensorCoreGemmCase(device)) {
            // batch 2 x 128 tokens, d 384: attention output projection, FFN up (GELU, bf16), FFN down (+ residual)
            c.run(256, 384, 384, Epilogue.BIAS, DType.FLOAT32, 0, true, 101);
            c.run(256, 1536, 384, Epilogue.BIAS_GELU, DType.BFLOAT16, 0, true, 102);
            c.run(256, 384, 1536, Epilogue.BIAS_RESIDUAL, DType.FLOAT32, 128, true, 103);
            assertThat(device.launchesByKernel()).containsOnly(Map.entry("gemm_tc_bf16_f32_m64", 1),
                    Map.entry("gemm_tc_bf16_bf16_m64", 1), Map.entry("gemm_tc_bf16_f32", 1));
        }
    }

    @Test
    void zeroKGivesTheEpilogueOfZeroAndEmptyOutputsLaunchNothing() {
        CountingDeviceApi device = new CountingDeviceApi(EmulatedDevice.sharedOrSkip());
        try (TensorCoreGemmCase c = new TensorCoreGemmCase(device)) {
            c.run(5, 9, 0, Epilogue.BIAS_GELU, DType.FLOAT32, 0, false, 7);
            device.reset();
            c.run(0, 9, 16, Epilogue.BIAS, DType.FLOAT32, 0, false, 8);
            c.run(4, 0, 16, Epilogue.NONE, DType.BFLOAT16, 0, false, 9);
            assertThat(device.launches()).isZero();
        }
    }

    @Test
    void tileChoiceFillsTheGpu() {
        assertThat(GemmTcTestAccess.tileRows(256, 384)).isEqualTo(64);           // 6 blocks of 128 rows
        assertThat(GemmTcTestAccess.tileRows(4096, 1024)).isEqualTo(64);         // 256 < 2 x 132
        assertThat(GemmTcTestAccess.tileRows(8192, 1024)).isEqualTo(128);        // 512
        assertThat(GemmTcTestAccess.tileRows(132 * 128, 256)).isEqualTo(128);    // exactly 264
        assertThat(GemmTcTestAccess.sharedBytes(128)).isEqualTo(61_440).isGreaterThan(KernelLauncher.DEFAULT_SHARED_LIMIT);
        assertThat(GemmTcTestAccess.sharedBytes(64)).isEqualTo(46_080).isLessThanOrEqualTo(KernelLauncher.DEFAULT_SHARED_LIMIT);
        assertThat(GemmTcKernel.supports(384)).isTrue();
        assertThat(GemmTcKernel.supports(8)).isTrue();
        assertThat(GemmTcKernel.supports(97)).isFalse();
        assertThat(GemmTcKernel.supports(12)).isFalse();
    }

    @Test
    void theLauncherRefusesWhatTheKernelCannotDo() {
        try (TensorCoreGemmCase c = new TensorCoreGemmCase(EmulatedDevice.sharedOrSkip());
             Tensor aInts = c.memory.allocate(DType.INT32, 64 * 64);
             Tensor wInts = c.memory.allocate(DType.INT32, 64 * 64);
             Tensor f32 = c.memory.allocate(DType.FLOAT32, 64 * 64);
             Tensor bias = c.memory.allocate(DType.FLOAT32, 64)) {
            Tensor a = TensorCoreGemmCase.as(aInts, DType.BFLOAT16, 64 * 64);
            Tensor w = TensorCoreGemmCase.as(wInts, DType.BFLOAT16, 64 * 64);
            Tensor c16 = TensorCoreGemmCase.as(f32, DType.BFLOAT16, 64 * 64);
            KernelLauncher l = c.launcher;
            assertThatThrownBy(() -> GemmTcKernel.launch(l, a, w, bias, Epilogue.BIAS, f32, 16, 16, 12))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k=12")
                    .hasMessageContaining("multiple of 8");
            assertThatThrownBy(() -> GemmTcKernel.launch(l, a, w, bias, Epilogue.BIAS_RESIDUAL, c16, 16, 16, 16))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("BIAS_RESIDUAL")
                    .hasMessageContaining("FLOAT32 c");
            assertThatThrownBy(() -> GemmTcKernel.launch(l, f32, w, bias, Epilogue.BIAS, f32, 16, 16, 16))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a must be a BFLOAT16");
            assertThatThrownBy(() -> GemmTcKernel.launch(l, a, f32, bias, Epilogue.BIAS, f32, 16, 16, 16))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("w16 must be");
            assertThatThrownBy(() -> GemmTcKernel.launch(l, a, w, null, Epilogue.BIAS, f32, 16, 16, 16))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a bias");
            assertThatThrownBy(() -> GemmTcKernel.launch(l, a.view(1, 16 * 16), w, bias, Epilogue.BIAS, f32, 16, 16,
                    16)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a must be 16-byte aligned");
            assertThatThrownBy(() -> GemmTcKernel.launch(l, a, w.view(8, 16 * 16 - 8), bias, Epilogue.BIAS, f32, 16,
                    16, 16)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("w16 holds");
            assertThatThrownBy(() -> GemmTcKernel.launch(l, a, w, bias, Epilogue.BIAS, f32, 65, 64, 64))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a holds");
            // the old kernels do not implement the residual epilogue
            assertThatThrownBy(() -> GemmKernel.launchResident(l, GemmPrecision.BF16, f32, wInts, bias,
                    Epilogue.BIAS_RESIDUAL, f32, 16, 16, 16)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("has no BIAS_RESIDUAL epilogue");
            assertThatThrownBy(() -> GemmKernel.launch(l, GemmPrecision.BF16, f32, f32, true, bias,
                    Epilogue.BIAS_RESIDUAL, f32, 16, 16, 16)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("has no BIAS_RESIDUAL epilogue");
        }
    }

    private static String kernel(DType out, int tile) {
        return (out == DType.FLOAT32 ? "gemm_tc_bf16_f32" : "gemm_tc_bf16_bf16") + (tile == 64 ? "_m64" : "");
    }
}
