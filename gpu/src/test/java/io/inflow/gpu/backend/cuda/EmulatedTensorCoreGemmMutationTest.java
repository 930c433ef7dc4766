package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.cuda.kernels.GemmKernel.Epilogue;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.testing.EmulatedDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Negative controls for {@link EmulatedTensorCoreGemmTest}: emulators built from a copy of {@code src/main/cuda} with
 * one planted bug in {@code gemm_tc.cu} must fail its contract case ({@link #contractCase}: 5 K steps, so the
 * 3-stage pipeline wraps around, both tile variants), while the unmutated sources pass it.
 * <ul>
 *   <li>fragment layout, A: lanes 8-15 give the ldmatrix row addresses of rows 0-7 instead of 8-15, so each A
 *       fragment's registers a[1] / a[3] hold the upper 8 rows' neighbours twice;</li>
 *   <li>fragment layout, B: the two registers of each B fragment swapped (k 8-15 multiplied with A's k 0-7);</li>
 *   <li>a missing barrier: no {@code __syncthreads()} after {@code cp_async_wait}. It is the pipeline's only barrier
 *       per K step, so it both publishes the step's tiles to every warp and keeps the prefetch from overwriting the
 *       stage other warps still read; without it warp 0 reads rows the other warps' copies have not put there (the
 *       NaN poison of shared memory).</li>
 * </ul>
 */
class EmulatedTensorCoreGemmMutationTest {
    /**
     * Shared by the methods: one copy of the sources and one build folder, so that a mutated build recompiles only
     * gemm_tc (the emulator's generated units name their source folder; the other families' stay unchanged).
     */
    @TempDir
    static Path tmp;

    static final String A_ROWS = "const int a_row = warp_m * WARP_M + (lane & 15);";
    static final String B_REGISTERS = "                b[j][0] = r[0];\n                b[j][1] = r[1];\n";
    static final String STEP_BARRIER = "        __syncthreads();   // step kt landed for every thread;";

    @Test
    void aWrongRowAddressForTheUpperHalfOfAFailsTheContract() throws Exception {
        Path src = mutate(A_ROWS, A_ROWS.replace("(lane & 15)", "(lane & 7)"));
        assertThatThrownBy(() -> contractCase(src)).as("A fragments with rows 0-7 twice")
                .isInstanceOf(AssertionError.class).hasMessageStartingWith("gemm_tc");
    }

    @Test
    void swappedBRegistersFailTheContract() throws Exception {
        Path src = mutate(B_REGISTERS, "                b[j][0] = r[1];\n                b[j][1] = r[0];\n");
        assertThatThrownBy(() -> contractCase(src)).as("B fragments with their k halves swapped")
                .isInstanceOf(AssertionError.class).hasMessageStartingWith("gemm_tc");
    }

    @Test
    void aMissingBarrierAfterTheCopyWaitFailsTheContract() throws Exception {
        Path src = mutate(STEP_BARRIER, "        // (barrier removed)   // step kt landed for every thread;");
        assertThatThrownBy(() -> contractCase(src)).as("reading a stage before the other warps' copies landed")
                .isInstanceOf(AssertionError.class).hasMessageStartingWith("gemm_tc");
    }

    @Test
    void theUnmutatedKernelPassesTheSameCase() throws Exception {
        try (TensorCoreGemmCase c = new TensorCoreGemmCase(EmulatedDevice.sharedOrSkip())) {
            run(c);
        }
    }

    /** The contract case on an emulator built from {@code sources}. */
    private void contractCase(Path sources) throws IOException {
        EmulatedDevice.sharedOrSkip();   // skips where the emulator cannot be built at all
        Path binary = EmulatedDevice.build(tmp.resolve("build"), sources);
        try (EmulatedDevice device = EmulatedDevice.start(binary);
             TensorCoreGemmCase c = new TensorCoreGemmCase(device)) {
            run(c);
        }
    }

    private static void run(TensorCoreGemmCase c) {
        for (int tile : new int[] {64, 128}) {
            c.run(200, 136, 136, Epilogue.BIAS, DType.FLOAT32, tile, true, 42 + tile);
        }
    }

    /** A copy of the kernel sources with {@code from} replaced by {@code to} in gemm_tc.cu (exactly once). */
    private Path mutate(String from, String to) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("cuda"));
        try (Stream<Path> files = Files.list(Path.of("src/main/cuda"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (!n.equals("gemm_tc.cu") && !n.endsWith(".cuh")) {
                    continue;   // the family alone (and the headers): the other families' builds are not needed here
                }
                Path copy = dir.resolve(f.getFileName());
                if (!Files.exists(copy) || Files.mismatch(f, copy) != -1) {
                    Files.copy(f, copy, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        Path file = dir.resolve("gemm_tc.cu");
        String text = Files.readString(file);
        assertThat(text.split(Pattern.quote(from), -1)).as("the planted change's anchor in gemm_tc.cu").hasSize(2);
        Files.writeString(file, text.replace(from, to));
        return dir;
    }
}
