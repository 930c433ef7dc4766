package io.inflow.gpu.encoder;

import io.inflow.gpu.testing.EmulatedDevice;
import io.inflow.gpu.testing.RandomBert;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole encoder forward on the emulated CUDA device ({@link EmulatedDevice}: every kernel of the forward, in the
 * order {@code BertEncoder} launches them, compiled for the host) against the CPU backend: a small BERT (2 layers,
 * 64 wide, 4 heads) with random weights, so it runs in CI in seconds. Tolerance as on a GPU: BF16 GEMM inputs, cosine
 * {@link CudaTextEncoderTest#BF16_ENCODER_COSINE}.
 */
class EmulatedTextEncoderTest {
    static final RandomBert SMALL = new RandomBert(2, 64, 4, 128, 2000, 80);

    @TempDir
    Path tmp;

    @Test
    void smallEncoderOnTheEmulatedDeviceMatchesTheCpuBackend() throws Exception {
        var device = EmulatedDevice.backendOrSkip();
        Path dir = SMALL.write(tmp.resolve("bert-small"), 7);
        RandomEncoderParity.worstCosine(dir, SMALL, device, new int[] {1, 2, 17, 33, 64, 80},
                CudaTextEncoderTest.BF16_ENCODER_COSINE);
    }
}
