package io.inflow.gpu.encoder;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cuda.CountingDeviceApi;
import io.inflow.gpu.backend.cuda.CudaTestAccess;
import io.inflow.gpu.backend.cuda.GemmPrecision;
import io.inflow.gpu.testing.EmulatedDevice;
import io.inflow.gpu.testing.RandomBert;
import io.inflow.gpu.testing.TokenBatch;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The whole text encoder on the emulated CUDA device with resident 16-bit weights and fused QKV (declared by
 * {@link BertWeights#load}) against the same encoder after the backend dropped them (per-call rounding, three QKV
 * GEMMs, the path before resident weights existed): bit for bit equal embeddings. And what one forward costs in
 * kernel launches and host synchronisations on either path, for MiniLM-L6's structure (6 layers; the counts do not
 * depend on the width).
 */
class EmulatedResidentWeightsEncoderTest {
    private static final int[] LENGTHS = {1, 2, 17, 33, 64, 80};

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(GemmPrecision.class)
    void residentWeightsGiveBitIdenticalEmbeddings(GemmPrecision precision) throws Exception {
        RandomBert shape = EmulatedTextEncoderTest.SMALL;
        CountingDeviceApi device = new CountingDeviceApi(EmulatedDevice.sharedOrSkip());
        Path dir = shape.write(tmp.resolve("bert-small"), 7);
        TokenBatch batch = shape.tokens(new Random(17), LENGTHS);
        try (Backend b = device.backend(precision); TextEncoder encoder = create(dir, shape, b)) {
            assertThat(CudaTestAccess.residentWeights(b)).as("{linear weights, fused QKV} per layer")
                    .containsExactly(3 * shape.layers(), shape.layers());
            float[] resident = OrtParityTest.encode(encoder, batch, null);
            CudaTestAccess.releaseResidentWeights(b);
            float[] perCall = OrtParityTest.encode(encoder, batch, null);
            assertThat(bits(resident)).isEqualTo(bits(perCall));
        }
    }

    @Test
    void oneMiniLmForwardLaunchesTwoKernelsPerLayerFewerAndSynchronisesAsOften() throws Exception {
        RandomBert shape = new RandomBert(RandomBert.MINILM.layers(), 64, 4, 128, 2000, 64);
        CountingDeviceApi device = new CountingDeviceApi(EmulatedDevice.sharedOrSkip());
        Path dir = shape.write(tmp.resolve("bert-6"), 3);
        TokenBatch batch = shape.tokens(new Random(5), new int[] {40, 7, 64});
        try (Backend b = device.backend(GemmPrecision.BF16)) {
            device.reset();
            try (TextEncoder encoder = create(dir, shape, b)) {
                int loadLaunches = device.launches();
                int loadSyncs = device.synchronizations();
                Map<String, Integer> loadKernels = device.launchesByKernel();
                int[] after = countForward(device, encoder, batch);
                Map<String, Integer> afterKernels = device.launchesByKernel();
                CudaTestAccess.releaseResidentWeights(b);
                int[] before = countForward(device, encoder, batch);
                Map<String, Integer> beforeKernels = device.launchesByKernel();
                System.out.printf("MiniLM-L6 structure, one encode of 3 sequences: before %d launches, %d syncs %s;"
                        + " after %d launches, %d syncs %s; at load %d launches %s, %d syncs%n", before[0], before[1],
                        beforeKernels, after[0], after[1], afterKernels, loadLaunches, loadKernels, loadSyncs);
                assertThat(after[0]).as("launches").isEqualTo(before[0] - 2 * shape.layers());
                assertThat(after[1]).as("host synchronisations").isEqualTo(before[1]);
                assertThat(beforeKernels).containsEntry("gemm_bf16_f32", 6 * shape.layers());
                assertThat(afterKernels).containsEntry("gemm_bf16_f32_w16", 4 * shape.layers())
                        .doesNotContainKey("gemm_bf16_f32");
            }
        }
    }

    /** {launches, synchronisations} of one encode, after a first one sized the workspaces. */
    private static int[] countForward(CountingDeviceApi device, TextEncoder encoder, TokenBatch batch) {
        OrtParityTest.encode(encoder, batch, null);
        device.reset();
        OrtParityTest.encode(encoder, batch, null);
        return new int[] {device.launches(), device.synchronizations()};
    }

    private static TextEncoder create(Path dir, RandomBert shape, Backend backend) throws Exception {
        return TextEncoder.create(TextEncoderConfig.builder().safetensors(dir)
                .maxSequenceLength(Math.min(256, shape.maxPositions())).build(), backend);
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
