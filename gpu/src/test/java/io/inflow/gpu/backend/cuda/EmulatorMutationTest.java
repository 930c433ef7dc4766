package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.TransformerContractTest;
import io.inflow.gpu.testing.EmulatedDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Negative controls for the emulated device: the kernels built from a copy of {@code src/main/cuda} with one planted
 * bug must fail the contract case that covers them, so a passing emulated suite means something.
 * <ul>
 *   <li>a layout bug: {@code gemm.cu} loads its B fragments as column-major instead of row-major (the WMMA fragment
 *       layout the kernel's shared-memory tile is written in);</li>
 *   <li>a missing barrier: {@code gemm.cu} without the {@code __syncthreads()} between writing a shared-memory tile
 *       and the warps reading it (shared memory is NaN-filled before each block, so an early read shows).</li>
 * </ul>
 * Each control also runs the same case on the unmutated build, which must pass.
 */
class EmulatorMutationTest {
    @TempDir
    Path tmp;

    private static final String B_FRAGMENT = "wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> b[2];";
    private static final String TILE_BARRIER = "        }\n        __syncthreads();\n\n        for (int kk = 0;";

    @Test
    void aFragmentLayoutBugInTheGemmFailsTheMatmulContract() throws Exception {
        EmulatedDevice.sharedOrSkip();
        Path src = mutate("gemm.cu", B_FRAGMENT, B_FRAGMENT.replace("row_major> b[2]", "col_major> b[2]"));
        assertThatThrownBy(() -> matmulCase(src)).as("column-major B fragments must give wrong products")
                .isInstanceOf(AssertionError.class).hasMessageContaining("matmul");
    }

    @Test
    void aMissingBarrierInTheGemmFailsTheMatmulContract() throws Exception {
        EmulatedDevice.sharedOrSkip();
        Path src = mutate("gemm.cu", TILE_BARRIER, "        }\n\n        for (int kk = 0;");
        assertThatThrownBy(() -> matmulCase(src)).as("reading the tile before every thread wrote it")
                .isInstanceOf(AssertionError.class);
    }

    @Test
    void theUnmutatedKernelsPassTheSameCase() throws Exception {
        EmulatedDevice.sharedOrSkip();
        matmulCase(Path.of("src/main/cuda"));
    }

    /** A copy of the kernel sources with {@code from} replaced by {@code to} in {@code file} (exactly once). */
    private Path mutate(String file, String from, String to) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("cuda"));
        try (Stream<Path> files = Files.list(Path.of("src/main/cuda"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        String text = Files.readString(dir.resolve(file));
        assertThat(text.split(java.util.regex.Pattern.quote(from), -1)).as("the planted change's anchor in " + file)
                .hasSize(2);
        Files.writeString(dir.resolve(file), text.replace(from, to));
        return dir;
    }

    /** The transformer contract's matmul case on an emulator built from {@code sources}. */
    private void matmulCase(Path sources) throws Exception {
        Path binary = EmulatedDevice.build(tmp.resolve("build-" + sources.getFileName()), sources);
        try (EmulatedDevice device = EmulatedDevice.start(binary)) {
            Backend backend = CudaBackend.on(CudaContext.on(device), CudaBackendConfig.builder()
                    .poolBytes(64L << 20).stagingBytes(4L << 20).syncAfterLaunch(true).build());
            new MatmulCase(backend).run();
        }
    }

    /** Runs {@code matmulOnEdgeSizesMeetsThePrecisionTolerance} of the contract on a given backend. */
    private static final class MatmulCase extends TransformerContractTest {
        private final Backend given;

        MatmulCase(Backend given) {
            this.given = given;
        }

        @Override
        protected Backend create() {
            return given;
        }

        @Override
        protected MatmulTolerance matmulTolerance() {
            return MatmulTolerance.BF16;
        }

        void run() {
            open();
            try {
                matmulOnEdgeSizesMeetsThePrecisionTolerance();
            } finally {
                close();
            }
        }
    }
}
