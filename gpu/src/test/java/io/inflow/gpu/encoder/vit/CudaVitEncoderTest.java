package io.inflow.gpu.encoder.vit;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaAvailability;
import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.testing.FashionMnist;
import io.inflow.gpu.testing.CudaDevice;
import io.inflow.gpu.testing.Vectors;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Fashion-MNIST ViT on CUDA (preprocessing in {@code image.cu}, BF16 GEMMs) against the fast CPU encoder, both
 * fed the 1,000-image sample through {@link VitEncoder#encode(DecodedImageBatch)}. Skipped with the reason where no
 * CUDA device exists.
 */
@Tag("gpu")
class CudaVitEncoderTest {
    /**
     * BF16 GEMM inputs (relative rounding 2^-8) through the patch embedding and four blocks: the per-image CLS cosine
     * to the float32 encoder is expected around 0.9999; 0.999 is the bar of the text encoder's CUDA test.
     */
    static final double BF16_VIT_COSINE = 0.999;
    /**
     * Share of images with the same argmax: BF16 rounding can flip images whose two best logits are nearly tied;
     * at most 5 of the 1,000.
     */
    static final double MIN_SAME_ARGMAX = 0.995;
    static final int BATCH = 250;

    @Test
    void fashionMnistVitOnCudaMatchesTheCpuEncoder() throws Exception {
        CudaAvailability.Result probe = CudaAvailability.probe();
        Assumptions.assumeTrue(probe.available(), () -> "no CUDA device: " + probe.reason());
        FashionMnist sample = FashionMnist.sample();
        try (BufferAllocator allocator = new RootAllocator();
             VitEncoder cpu = VitEncoder.create(VitEncoderConfig.builder().modelResource(VitOrtParityTest.MODEL)
                     .pooling(PoolingMode.CLS).backend(BackendKind.CPU).threads(2).build());
             VitEncoder gpu = VitEncoder.create(VitEncoderConfig.builder().modelResource(VitOrtParityTest.MODEL)
                     .pooling(PoolingMode.CLS).backend(BackendKind.CUDA).cuda(CudaDevice.config()).build());
             DecodedImageBatch batch = new DecodedImageBatch(allocator, BATCH)) {
            assertThat(gpu.backendName()).startsWith("cuda(");
            int d = cpu.dimension();
            double worst = 1;
            int sameArgmax = 0;
            int gpuCorrect = 0;
            for (int start = 0; start < sample.size(); start += BATCH) {
                batch.clear();
                int n = Math.min(BATCH, sample.size() - start);
                for (int i = 0; i < n; i++) {
                    batch.append(sample.image(start + i));
                }
                VitOutput expected = cpu.encode(batch);
                VitOutput actual = gpu.encode(batch);
                for (int i = 0; i < n; i++) {
                    double cos = Vectors.cosine(actual.embeddings(), i * d, expected.embeddings(), i * d, d);
                    worst = Math.min(worst, cos);
                    assertThat(cos).as("image %d", start + i).isGreaterThanOrEqualTo(BF16_VIT_COSINE);
                    sameArgmax += actual.argmax(i) == expected.argmax(i) ? 1 : 0;
                    gpuCorrect += actual.argmax(i) == sample.label(start + i) ? 1 : 0;
                }
            }
            System.out.printf("CUDA vs CPU ViT on the t10k sample: worst CLS cosine %.6f, same argmax %d / %d,"
                    + " CUDA top-1 %d (CPU %d)%n", worst, sameArgmax, sample.size(), gpuCorrect,
                    VitOrtParityTest.SAMPLE_CORRECT);
            assertThat(sameArgmax / (double) sample.size()).as("share of images with the same argmax")
                    .isGreaterThanOrEqualTo(MIN_SAME_ARGMAX);
        }
    }
}
