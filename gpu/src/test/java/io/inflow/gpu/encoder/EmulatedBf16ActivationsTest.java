package io.inflow.gpu.encoder;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CountingDeviceApi;
import io.inflow.gpu.backend.cuda.GemmPrecision;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.testing.EmulatedDevice;
import io.inflow.gpu.testing.RandomBert;
import io.inflow.gpu.testing.TokenBatch;
import io.inflow.gpu.testing.Vectors;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Hopper-speed encoder path on the emulated device: MiniLM-L6's exact shape (6 layers, 384 wide, 12 heads of 32,
 * FFN 1536, seeded random weights) with bf16 activations between kernels, the tensor-core GEMM ({@code gemm_tc.cu}:
 * {@code cp.async}, {@code ldmatrix}, {@code mma.sync}, bias / GELU / residual epilogues), flash attention on the fused
 * QKV buffer and the warp-per-row LayerNorm writing float32 and bf16, against the float32 CPU reference. The kernel
 * counts prove the path ran (no {@code attention_f32}, no WMMA GEMM). What the emulator checks is indexing, layouts
 * and barriers with one valid float32 summation order, not nvcc's code or the tensor cores' internal rounding.
 *
 * <p>Tolerances (named): bf16 keeps 8 significant bits (relative rounding 2^-9); each layer rounds its GEMM operands
 * (the LayerNorm output, q/k/v, the context, the FFN's hidden layer) once, so six layers add about 6 x 4 independent
 * 2^-9 perturbations, i.e. a relative error of some 2^-9 x sqrt(24) = 1% on each hidden value. The pooled,
 * pooled embedding must keep a cosine of {@value #BF16_ACTIVATIONS_COSINE} to the float32 one (CUDA's text encoder
 * bar, {@link CudaTextEncoderTest#BF16_ENCODER_COSINE}) and, both scaled to unit length, every component within
 * {@value #BF16_ACTIVATIONS_ELEMENT} of it (a unit vector of 384 components has entries of about 0.05, so that is a
 * 30% error on a typical entry and far from what a layout bug gives: such bugs move components by the entries' own
 * size).
 */
class EmulatedBf16ActivationsTest {
    static final double BF16_ACTIVATIONS_COSINE = CudaTextEncoderTest.BF16_ENCODER_COSINE;
    static final double BF16_ACTIVATIONS_ELEMENT = 0.015;

    @TempDir
    Path tmp;

    @Test
    void miniLmShapedEncoderWithBf16ActivationsMatchesTheFloat32Reference() throws Exception {
        RandomBert shape = RandomBert.MINILM;
        Path dir = shape.write(tmp.resolve("minilm"), 42);
        int[] lengths = {1, 7, 20, 32};
        TokenBatch batch = shape.tokens(new Random(23), lengths);
        CountingDeviceApi device = new CountingDeviceApi(EmulatedDevice.sharedOrSkip());
        float[] expected;
        try (TextEncoder cpu = TextEncoder.create(TextEncoderConfig.builder().safetensors(dir)
                .maxSequenceLength(64).backend(BackendKind.CPU).threads(2).build())) {
            expected = OrtParityTest.encode(cpu, batch, null);
        }
        try (Backend b = device.backend(GemmPrecision.BF16);
             TextEncoder gpu = TextEncoder.create(TextEncoderConfig.builder().safetensors(dir).maxSequenceLength(64)
                     .build(), b)) {
            assertThat(b.transformer().activationType(shape.hidden() / shape.heads())).isEqualTo(DType.BFLOAT16);
            device.reset();
            float[] actual = OrtParityTest.encode(gpu, batch, null);
            Map<String, Integer> kernels = device.launchesByKernel();
            System.out.println("bf16-activation MiniLM forward, kernels: " + kernels);
            assertThat(kernels).as("the bf16 path ran").containsKeys("layernorm_f32_bf16")
                    .doesNotContainKeys("attention_f32", "gemm_bf16_f32_w16", "gemm_bf16_f32");
            assertThat(kernels.keySet()).anyMatch(k -> k.startsWith("gemm_tc_"))
                    .anyMatch(k -> k.startsWith("flash_attention"));
            int d = shape.hidden();
            double worstCos = 1;
            double worstElement = 0;
            for (int r = 0; r < lengths.length; r++) {
                double cos = Vectors.cosine(actual, r * d, expected, r * d, d);
                worstCos = Math.min(worstCos, cos);
                assertThat(cos).as("sequence %d (%d tokens)", r, lengths[r])
                        .isGreaterThanOrEqualTo(BF16_ACTIVATIONS_COSINE);
                double na = norm(actual, r * d, d);
                double ne = norm(expected, r * d, d);
                for (int i = 0; i < d; i++) {   // components of the unit-length embeddings
                    worstElement = Math.max(worstElement,
                            Math.abs(actual[r * d + i] / na - expected[r * d + i] / ne));
                }
            }
            System.out.printf("bf16 activations vs float32 CPU: worst cosine %.6f, worst component %.5f%n", worstCos,
                    worstElement);
            assertThat(worstElement).as("largest component difference").isLessThanOrEqualTo(BF16_ACTIVATIONS_ELEMENT);
        }
    }

    private static double norm(float[] v, int from, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) v[from + i] * v[from + i];
        }
        return Math.sqrt(s);
    }
}
