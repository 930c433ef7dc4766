package io.inflow.gpu.encoder;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.testing.RandomBert;
import io.inflow.gpu.testing.TokenBatch;
import io.inflow.gpu.testing.Vectors;
import java.nio.file.Path;
import java.util.Random;

/**
 * One check shared by the GPU and the emulated-device encoder tests: an encoder with seeded random weights of a
 * given shape ({@link RandomBert}) on {@code device} against the same weights on the CPU backend, per sequence
 * cosine of the pooled embeddings, over lengths around the kernels' tiles (1, 2, a warp, a tile and one past it,
 * the longest).
 *
 * <p>{@code double worst = RandomEncoderParity.worstCosine(dir, RandomBert.MINILM, gpuBackend, lengths, 0.999);}
 */
final class RandomEncoderParity {

    private RandomEncoderParity() {
    }

    /** Encodes random sequences of {@code lengths} on both; asserts each cosine >= {@code minCosine}; the worst. */
    static double worstCosine(Path dir, RandomBert shape, Backend device, int[] lengths, double minCosine)
            throws Exception {
        TokenBatch batch = shape.tokens(new Random(17), lengths);
        int maxLength = Math.min(256, shape.maxPositions());
        try (TextEncoder cpu = TextEncoder.create(TextEncoderConfig.builder().safetensors(dir)
                     .maxSequenceLength(maxLength).backend(BackendKind.CPU).threads(2).build());
             TextEncoder onDevice = TextEncoder.create(TextEncoderConfig.builder().safetensors(dir)
                     .maxSequenceLength(maxLength).build(), device)) {
            float[] expected = OrtParityTest.encode(cpu, batch, null);
            float[] actual = OrtParityTest.encode(onDevice, batch, null);
            int d = shape.hidden();
            double worst = 1;
            for (int r = 0; r < lengths.length; r++) {
                double cos = Vectors.cosine(actual, r * d, expected, r * d, d);
                worst = Math.min(worst, cos);
                assertThat(cos).as("sequence %d of %d tokens", r, lengths[r]).isGreaterThanOrEqualTo(minCosine);
            }
            return worst;
        }
    }
}
