package io.inflow.gpu.encoder;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cuda.CountingDeviceApi;
import io.inflow.gpu.backend.cuda.CudaBackend;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.backend.cuda.CudaContext;
import io.inflow.gpu.backend.cuda.CudaTestAccess;
import io.inflow.gpu.backend.cuda.GemmPrecision;
import io.inflow.gpu.testing.EmulatedDevice;
import io.inflow.gpu.testing.RandomBert;
import io.inflow.gpu.testing.TokenBatch;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The encoder's forward pass replayed as a CUDA graph ({@code CudaGraphs}) on the emulated device, whose stream capture
 * records launches and replays them as the driver would: the first pass of a batch shape runs kernel by kernel, the
 * second identical pass is captured and launched as one graph, later ones only launch it; every pass gives the same
 * bits as a backend that never records ({@code sync-after-launch}, which turns graphs off). A larger batch moves the
 * workspace: the pass after it, with the first shape again, has other pointers, so it must run kernel by kernel
 * (replaying the old graph would read freed buffers) and still give the same bits.
 */
class EmulatedCudaGraphsTest {
    @TempDir
    Path tmp;

    @Test
    void repeatedPassesReplayOneGraphWithTheSameBitsAndAMovedWorkspaceIsNotReplayed() throws Exception {
        RandomBert shape = EmulatedTextEncoderTest.SMALL;
        Path dir = shape.write(tmp.resolve("bert"), 11);
        TokenBatch small = shape.tokens(new Random(3), new int[] {5, 33, 64});
        TokenBatch large = shape.tokens(new Random(4), new int[] {80, 2, 17, 64, 9, 80});
        EmulatedDevice emulated = EmulatedDevice.sharedOrSkip();
        float[] wantSmall;
        float[] wantLarge;
        try (Backend plain = CudaBackend.on(CudaContext.on(emulated), CudaBackendConfig.builder().poolBytes(256L << 20)
                .stagingBytes(4L << 20).syncAfterLaunch(true).gemmPrecision(GemmPrecision.BF16).build());
             TextEncoder encoder = create(dir, shape, plain)) {
            wantSmall = OrtParityTest.encode(encoder, small, null);
            wantLarge = OrtParityTest.encode(encoder, large, null);
            assertThat(CudaTestAccess.graphCounts(plain)).as("sync-after-launch records nothing")
                    .containsExactly(0, 0, 0);
        }
        CountingDeviceApi device = new CountingDeviceApi(emulated);
        try (Backend b = device.backend(GemmPrecision.BF16); TextEncoder encoder = create(dir, shape, b)) {
            device.reset();
            assertThat(OrtParityTest.encode(encoder, small, null)).as("pass 1, kernel by kernel").isEqualTo(wantSmall);
            int eagerLaunches = device.launches();
            assertThat(device.graphLaunches()).isZero();
            device.reset();
            assertThat(OrtParityTest.encode(encoder, small, null)).as("pass 2, captured").isEqualTo(wantSmall);
            assertThat(device.graphsCaptured()).isEqualTo(1);
            assertThat(device.graphLaunches()).isEqualTo(1);
            device.reset();
            assertThat(OrtParityTest.encode(encoder, small, null)).as("pass 3, replayed").isEqualTo(wantSmall);
            int replayLaunches = device.launches();
            assertThat(device.graphLaunches()).isEqualTo(1);
            assertThat(device.graphsCaptured()).isZero();
            System.out.printf("graphs: a pass issues %d kernels one by one; replayed, %d kernels + 1 graph%n",
                    eagerLaunches, replayLaunches);
            assertThat(replayLaunches).as("only the pooling after the encoder is launched on its own")
                    .isLessThan(eagerLaunches / 4);
            assertThat(CudaTestAccess.graphCounts(b)).containsExactly(1, 1, 1);

            assertThat(OrtParityTest.encode(encoder, large, null)).as("a larger batch").isEqualTo(wantLarge);
            device.reset();
            assertThat(OrtParityTest.encode(encoder, small, null)).as("the first shape after the workspace moved")
                    .isEqualTo(wantSmall);
            assertThat(device.graphLaunches()).as("the old graph holds the old pointers: not replayed").isZero();
            assertThat(CudaTestAccess.graphCounts(b)).containsExactly(3, 1, 1);
        }
    }

    private static TextEncoder create(Path dir, RandomBert shape, Backend backend) throws Exception {
        return TextEncoder.create(TextEncoderConfig.builder().safetensors(dir)
                .maxSequenceLength(Math.min(256, shape.maxPositions())).build(), backend);
    }
}
