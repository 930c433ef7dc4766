package io.inflow.gpu.encoder;

import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.testing.CudaDevice;
import io.inflow.gpu.testing.RandomBert;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A MiniLM-shaped encoder (6 layers, 384 wide, 12 heads, 30,522-token vocabulary) with seeded random weights on
 * CUDA against the CPU backend: the device kit's text-encoder check, since the real MiniLM weights (a 90 MB jar) do
 * not travel to the device; {@link CudaTextEncoderTest} runs the real ones where they are on the classpath.
 * Tolerance: {@link CudaTextEncoderTest#BF16_ENCODER_COSINE} (BF16 GEMM inputs through six layers).
 */
@Tag("gpu")
class CudaRandomMiniLmTest {
    @TempDir
    Path tmp;

    @Test
    void miniLmShapedEncoderOnCudaMatchesTheCpuBackend() throws Exception {
        CudaDevice.assumePresent();
        Path dir = RandomBert.MINILM.write(tmp.resolve("minilm-random"), 20261202L);
        double worst = RandomEncoderParity.worstCosine(dir, RandomBert.MINILM, Backends.cuda(CudaDevice.config()),
                new int[] {1, 2, 17, 31, 32, 33, 64, 65, 100, 127, 128, 256}, CudaTextEncoderTest.BF16_ENCODER_COSINE);
        System.out.println("CUDA vs CPU, MiniLM-shaped random weights: worst cosine " + worst);
    }
}
