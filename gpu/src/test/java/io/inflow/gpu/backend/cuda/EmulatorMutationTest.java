package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.TransformerContractTest;
import io.inflow.gpu.quant.QuantizedContractTest;
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
 *       and the warps reading it (shared memory is NaN-filled before each block, so an early read shows);</li>
 *   <li>two bugs in one build of {@code quant.cu}: the same missing tile barrier in the INT8 GEMM (must fail the
 *       quantized linear case), and C's truncating division where I-LayerNorm's mean takes Java's
 *       {@code Math.floorDiv} (must fail the quantized LayerNorm case: rows with a negative sum get another
 *       mean).</li>
 * </ul>
 * The two {@code gemm.cu} bugs sit in the tile loop that {@code gemm_*_f32_w16} (resident 16-bit weights) shares
 * with the float32 GEMM, so each must also fail a linear on a resident weight ({@link #residentLinearCase}).
 * Each control also runs the same cases on the unmutated build, which must pass.
 */
class EmulatorMutationTest {
    @TempDir
    Path tmp;

    private static final String B_FRAGMENT = "wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> b[2];";
    private static final String TILE_BARRIER = "        }\n        __syncthreads();\n\n        for (int kk = 0;";
    private static final String QUANT_TILE_BARRIER = "        }\n        __syncthreads();\n\n        for (int s = 0;";
    private static final String FLOOR_DIV = "floor_div(2 * sum + d, 2LL * d)";

    @Test
    void aFragmentLayoutBugInTheGemmFailsTheMatmulContract() throws Exception {
        EmulatedDevice.sharedOrSkip();
        Path src = mutate("gemm.cu", B_FRAGMENT, B_FRAGMENT.replace("row_major> b[2]", "col_major> b[2]"));
        assertThatThrownBy(() -> matmulCase(src)).as("column-major B fragments must give wrong products")
                .isInstanceOf(AssertionError.class).hasMessageContaining("matmul");
        assertThatThrownBy(() -> residentLinearCase(src)).as("the same bug in the resident-weight GEMM")
                .isInstanceOf(AssertionError.class).hasMessageContaining("resident linear");
    }

    @Test
    void aMissingBarrierInTheGemmFailsTheMatmulContract() throws Exception {
        EmulatedDevice.sharedOrSkip();
        Path src = mutate("gemm.cu", TILE_BARRIER, "        }\n\n        for (int kk = 0;");
        assertThatThrownBy(() -> matmulCase(src)).as("reading the tile before every thread wrote it")
                .isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> residentLinearCase(src)).as("the same bug in the resident-weight GEMM")
                .isInstanceOf(AssertionError.class).hasMessageContaining("resident linear");
    }

    @Test
    void integerSemanticsAndBarrierBugsInTheQuantKernelsFailTheQuantizedContract() throws Exception {
        EmulatedDevice.sharedOrSkip();
        Path src = mutate("quant.cu", QUANT_TILE_BARRIER, "        }\n\n        for (int s = 0;");
        Path twice = mutate(src, "quant.cu", FLOOR_DIV, "(2 * sum + d) / (2LL * d)");
        try (EmulatedDevice device = EmulatedDevice.start(build(twice))) {
            QuantCases q = new QuantCases(device);
            assertThatThrownBy(q::linearCase)
                    .as("reading the int8 tiles before every thread wrote them")
                    .isInstanceOf(AssertionError.class).hasMessageContaining("linear");
            assertThatThrownBy(q::layerNormCase).as("C's division where Java floors")
                    .isInstanceOf(AssertionError.class).hasMessageContaining("layerNorm");
        }
    }

    @Test
    void theUnmutatedKernelsPassTheSameCase() throws Exception {
        EmulatedDevice.sharedOrSkip();
        Path sources = copyOfFamilies(Path.of("src/main/cuda"));
        matmulCase(sources);
        residentLinearCase(sources);
        try (EmulatedDevice device = EmulatedDevice.start(build(sources))) {
            QuantCases q = new QuantCases(device);
            q.linearCase();
            q.layerNormCase();
        }
    }

    /** A copy of the kernel sources with {@code from} replaced by {@code to} in {@code file} (exactly once). */
    private Path mutate(String file, String from, String to) throws IOException {
        return mutate(Path.of("src/main/cuda"), file, from, to);
    }

    /** As {@link #mutate(String, String, String)} on a copy of {@code sources} (a new folder each time). */
    private Path mutate(Path sources, String file, String from, String to) throws IOException {
        Path dir = copyOfFamilies(sources);
        String text = Files.readString(dir.resolve(file));
        assertThat(text.split(java.util.regex.Pattern.quote(from), -1)).as("the planted change's anchor in " + file)
                .hasSize(2);
        Files.writeString(dir.resolve(file), text.replace(from, to));
        return dir;
    }

    private int copies;

    /** Families the cases launch: the GEMM, the integer kernels, and the fill the resident weights use. */
    private static final java.util.Set<String> FAMILIES = java.util.Set.of("gemm.cu", "quant.cu", "elementwise.cu");

    /**
     * A new folder with the families the cases need and every header (the other families' builds would only cost
     * time: each emulator build compiles what its folder holds).
     */
    private Path copyOfFamilies(Path sources) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("cuda-" + (++copies)));
        try (Stream<Path> files = Files.list(sources)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (FAMILIES.contains(n) || n.endsWith(".cuh")) {
                    Files.copy(f, dir.resolve(n));
                }
            }
        }
        return dir;
    }

    /** The transformer contract's matmul case on an emulator built from {@code sources}. */
    private void matmulCase(Path sources) throws Exception {
        try (EmulatedDevice device = EmulatedDevice.start(build(sources))) {
            new MatmulCase(backendOn(device)).run();
        }
    }

    /**
     * A linear on a weight declared resident ({@code gemm_bf16_f32_w16}), {@code [70, 97] x [65, 97]^T} (edge sizes),
     * on an emulator built from {@code sources}: every element within the contract's BF16 bound of the exact
     * product, or an {@link AssertionError} naming the element.
     */
    private void residentLinearCase(Path sources) throws Exception {
        int m = 70;
        int n = 65;
        int k = 97;
        java.util.Random rnd = new java.util.Random(9);
        float[] x = new float[m * k];
        float[] w = new float[n * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextFloat() * 2 - 1;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = rnd.nextFloat() * 2 - 1;
        }
        TransformerContractTest.MatmulTolerance tol = TransformerContractTest.MatmulTolerance.BF16;
        try (EmulatedDevice device = EmulatedDevice.start(build(sources));
             Backend b = backendOn(device);
             io.inflow.gpu.tensor.Tensor tx = b.upload(x, m, k);
             io.inflow.gpu.tensor.Tensor tw = b.upload(w, n, k);
             io.inflow.gpu.tensor.Tensor ty = b.allocate(io.inflow.gpu.tensor.DType.FLOAT32, m, n)) {
            b.transformer().prepareWeights(tw);
            assertThat(((CudaBackend) b).residentWeights()).containsExactly(1, 0);
            b.transformer().linear(tx, tw, null, ty);
            float[] y = b.download(ty);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    double magnitude = 0;
                    for (int p = 0; p < k; p++) {
                        double prod = (double) x[i * k + p] * w[j * k + p];
                        sum += prod;
                        magnitude += Math.abs(prod);
                    }
                    double bound = (tol.inputRounding() + k * tol.accumulationUnit()) * magnitude + 1e-30;
                    double err = Math.abs(y[i * n + j] - sum);
                    if (!(err <= bound)) {
                        throw new AssertionError("resident linear: y[" + i + ", " + j + "] = " + y[i * n + j]
                                + ", exact " + sum + ", error " + err + " > bound " + bound);
                    }
                }
            }
        }
    }

    private static Backend backendOn(EmulatedDevice device) {
        return CudaBackend.on(CudaContext.on(device), CudaBackendConfig.builder()
                .poolBytes(64L << 20).stagingBytes(4L << 20).syncAfterLaunch(true).build());
    }

    /** The emulator built from {@code sources} (rebuilt only when stale). */
    private Path build(Path sources) throws IOException {
        return EmulatedDevice.build(tmp.resolve("build-" + sources.getFileName()), sources);
    }

    /** Cases of {@link QuantizedContractTest} on a given emulated device, each on a backend of its own. */
    private static final class QuantCases extends QuantizedContractTest {
        private final EmulatedDevice device;

        QuantCases(EmulatedDevice device) {
            this.device = device;
        }

        @Override
        protected Backend create() {
            return backendOn(device);
        }

        /** {@code linearEqualsReferenceOnEverySize} of the contract. */
        void linearCase() {
            run(this::linearEqualsReferenceOnEverySize);
        }

        /** {@code layerNormEqualsReference} of the contract. */
        void layerNormCase() {
            run(this::layerNormEqualsReference);
        }

        /** Runs one case between the contract's open and close. */
        private void run(Runnable contractCase) {
            open();
            try {
                contractCase.run();
            } finally {
                close();
            }
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
