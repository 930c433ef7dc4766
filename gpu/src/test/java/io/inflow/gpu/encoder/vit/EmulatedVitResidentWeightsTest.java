package io.inflow.gpu.encoder.vit;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CountingDeviceApi;
import io.inflow.gpu.backend.cuda.CudaTestAccess;
import io.inflow.gpu.backend.cuda.GemmPrecision;
import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.testing.EmulatedDevice;
import io.inflow.gpu.testing.FashionMnist;
import io.inflow.gpu.testing.Vectors;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

/**
 * The Fashion-MNIST ViT on the emulated CUDA device: its Linear weights (patch projection, output projections, MLP,
 * classifier) resident as BF16 and its attention projections fused (declared by {@link VitWeights#load}) give bit
 * for bit the embeddings of the per-call rounding path, and stay within the GPU test's cosine of the CPU encoder.
 */
class EmulatedVitResidentWeightsTest {
    private static final int IMAGES = 4;

    @Test
    void residentWeightsGiveBitIdenticalEmbeddingsAndMatchTheCpuEncoder() throws Exception {
        CountingDeviceApi device = new CountingDeviceApi(EmulatedDevice.sharedOrSkip());
        FashionMnist sample = FashionMnist.sample();
        VitEncoderConfig config = VitEncoderConfig.builder().modelResource(VitOrtParityTest.MODEL)
                .pooling(PoolingMode.CLS).build();
        try (BufferAllocator allocator = new RootAllocator();
             DecodedImageBatch batch = new DecodedImageBatch(allocator, IMAGES);
             VitEncoder cpu = VitEncoder.create(VitEncoderConfig.builder().modelResource(VitOrtParityTest.MODEL)
                     .pooling(PoolingMode.CLS).backend(BackendKind.CPU).threads(2).build());
             Backend b = device.backend(GemmPrecision.BF16);
             VitEncoder gpu = VitEncoder.create(config, b)) {
            for (int i = 0; i < IMAGES; i++) {
                batch.append(sample.image(i));
            }
            int layers = 4;
            assertThat(CudaTestAccess.residentWeights(b)).as("{linear weights, fused QKV}")
                    .containsExactly(2 + 3 * layers, layers);
            float[] resident = gpu.encode(batch).embeddings();
            CudaTestAccess.releaseResidentWeights(b);
            float[] perCall = gpu.encode(batch).embeddings();
            assertThat(bits(resident)).isEqualTo(bits(perCall));
            float[] expected = cpu.encode(batch).embeddings();
            int d = cpu.dimension();
            for (int i = 0; i < IMAGES; i++) {
                assertThat(Vectors.cosine(resident, i * d, expected, i * d, d)).as("image %d", i)
                        .isGreaterThanOrEqualTo(CudaVitEncoderTest.BF16_VIT_COSINE);
            }
        }
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
