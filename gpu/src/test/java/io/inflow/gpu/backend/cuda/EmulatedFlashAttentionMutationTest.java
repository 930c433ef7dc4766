package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.testing.EmulatedDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Negative controls for {@link EmulatedFlashAttentionTest}, in the style of {@link EmulatorMutationTest}: the emulator
 * built from a copy of {@code flash_attention.cu} with one planted bug must fail the contract cases, and the same
 * build of the unmutated copy must pass them, so a passing emulated suite means something.
 * <ul>
 *   <li>a layout bug: V's B fragments loaded by {@code ldmatrix_x4} instead of {@code ldmatrix_x4_trans} (the V tile
 *       is {@code [key][hd]}, i.e. the B operand stored k-major, which only the transposing load turns into the
 *       "col" fragment);</li>
 *   <li>a missing barrier: the {@code __syncthreads()} after {@code cp_async_wait<0>()} removed, the one barrier of
 *       the key loop that makes a tile's copies (each thread's own, landed at its wait) visible to the other warps
 *       and keeps the prefetch from overwriting a stage another warp still reads. Without it warp 0 reads the rows
 *       other threads copied before their copies landed: NaN-poisoned shared memory.</li>
 * </ul>
 * The copies hold only {@code flash_attention.cu} and the headers, so each emulator build compiles one family
 * (a few seconds instead of all of them).
 */
class EmulatedFlashAttentionMutationTest {
    @TempDir
    Path tmp;

    private static final String V_FRAGMENTS = "ldmatrix_x4_trans(vf, ";
    private static final String STAGE_BARRIER = "        cp_async_wait<0>();\n        __syncthreads();";

    @Test
    void aTransposeMissingFromTheVFragmentsFailsTheContract() throws Exception {
        EmulatedDevice.sharedOrSkip();
        Path src = copy("layout", V_FRAGMENTS, "ldmatrix_x4(vf, ");
        try (EmulatedDevice device = EmulatedDevice.start(build(src))) {
            assertThatThrownBy(() -> EmulatedFlashAttentionTest.check(device, EmulatedFlashAttentionTest.MINILM))
                    .as("V loaded without .trans must give wrong contexts")
                    .isInstanceOf(AssertionError.class).hasMessageContaining("MiniLM").hasMessageContaining("out[");
            assertThatThrownBy(() -> EmulatedFlashAttentionTest.check(device, EmulatedFlashAttentionTest.HD128))
                    .as("the same bug at head_dim 128").isInstanceOf(AssertionError.class)
                    .hasMessageContaining("head_dim 128");
        }
    }

    @Test
    void aMissingBarrierAfterTheCopiesFailsTheContract() throws Exception {
        EmulatedDevice.sharedOrSkip();
        Path src = copy("barrier", STAGE_BARRIER, "        cp_async_wait<0>();");
        try (EmulatedDevice device = EmulatedDevice.start(build(src))) {
            assertThatThrownBy(() -> EmulatedFlashAttentionTest.check(device, EmulatedFlashAttentionTest.MINILM))
                    .as("reading K / V tiles before every thread's copies landed")
                    .isInstanceOf(AssertionError.class).hasMessageContaining("MiniLM");
            assertThatThrownBy(() -> EmulatedFlashAttentionTest.check(device, EmulatedFlashAttentionTest.THREE_TILES))
                    .as("the same bug over three key tiles").isInstanceOf(AssertionError.class)
                    .hasMessageContaining("three key tiles");
        }
    }

    @Test
    void theUnmutatedCopyPassesTheSameCases() throws Exception {
        EmulatedDevice.sharedOrSkip();
        Path src = copy("unmutated", null, null);
        try (EmulatedDevice device = EmulatedDevice.start(build(src))) {
            EmulatedFlashAttentionTest.check(device, EmulatedFlashAttentionTest.MINILM);
            EmulatedFlashAttentionTest.check(device, EmulatedFlashAttentionTest.HD128);
            EmulatedFlashAttentionTest.check(device, EmulatedFlashAttentionTest.THREE_TILES);
        }
    }

    /**
     * {@code flash_attention.cu} and every header of {@code src/main/cuda} copied into {@code tmp/name}, with
     * {@code from} replaced by {@code to} in the kernel (exactly once; null: unchanged).
     */
    private Path copy(String name, String from, String to) throws IOException {
        Path sources = Path.of("src/main/cuda");
        Path dir = Files.createDirectories(tmp.resolve("cuda-" + name));
        try (Stream<Path> files = Files.list(sources)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (n.equals("flash_attention.cu") || n.endsWith(".cuh")) {
                    Files.copy(f, dir.resolve(n));
                }
            }
        }
        if (from != null) {
            Path kernel = dir.resolve("flash_attention.cu");
            String text = Files.readString(kernel);
            assertThat(text.split(Pattern.quote(from), -1)).as("the planted change's anchor in flash_attention.cu")
                    .hasSize(2);
            Files.writeString(kernel, text.replace(from, to));
        }
        return dir;
    }

    private Path build(Path sources) throws IOException {
        return EmulatedDevice.build(tmp.resolve("build-" + sources.getFileName()), sources);
    }
}
