package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed fatbins match their CUDA sources: {@code kernels.sha256} (written by {@code build-kernels.sh} when it
 * rebuilds) records the SHA-256 of every {@code src/main/cuda/*.cu|*.cuh} and of every fatbin. Editing a kernel
 * without rebuilding, adding one without building it, or committing a fatbin that the manifest does not describe
 * fails here, on every machine (no nvcc or GPU needed). Fix: {@code gpu/src/main/cuda/build-kernels.sh}.
 */
class KernelManifestTest {
    static final Path SOURCES = Path.of("src/main/cuda");
    static final Path RESOURCES = Path.of("src/main/resources/io/inflow/gpu/kernels");
    /**
     * Total size of the fatbins (sm_80 + sm_90 code + compute_90 PTX for 15 families is about 1.7 MB today, 262 KB
     * of it {@code quant.fatbin}, 182 KB {@code gemm_tc.fatbin}, 160 KB {@code flash_attention.fatbin}: three
     * head-dimension instantiations).
     */
    static final long MAX_TOTAL_FATBIN_BYTES = 1_900_000;
    static final String FIX = "; rebuild with gpu/src/main/cuda/build-kernels.sh (needs nvcc) and commit the fatbins"
            + " and kernels.sha256";

    private static Map<String, String> manifest() throws IOException {
        Map<String, String> entries = new LinkedHashMap<>();
        try (InputStream in = KernelManifestTest.class.getResourceAsStream("/io/inflow/gpu/kernels/kernels.sha256")) {
            assertThat(in).as("kernels.sha256 on the classpath").isNotNull();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split("  ", 2);
                entries.put(parts[1].trim(), parts[0].trim());
            }
        }
        return entries;
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> hashes(Path dir, String... suffixes) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                for (String suffix : suffixes) {
                    if (name.endsWith(suffix)) {
                        out.put(name, sha256(f));
                    }
                }
            }
        }
        return out;
    }

    @Test
    void everySourceMatchesTheManifest() throws IOException {
        Map<String, String> recorded = new TreeMap<>();
        manifest().forEach((name, hash) -> {
            if (!name.startsWith("fatbin/")) {
                recorded.put(name, hash);
            }
        });
        Map<String, String> current = hashes(SOURCES, ".cu", ".cuh");
        assertThat(current.keySet()).as("CUDA sources vs the manifest" + FIX).isEqualTo(recorded.keySet());
        current.forEach((name, hash) -> assertThat(hash)
                .as(name + " changed since its fatbin was built" + FIX).isEqualTo(recorded.get(name)));
    }

    @Test
    void everyKernelFamilyHasItsFatbinAndTheFatbinsMatchTheManifest() throws IOException {
        Map<String, String> recorded = new TreeMap<>();
        manifest().forEach((name, hash) -> {
            if (name.startsWith("fatbin/")) {
                recorded.put(name.substring("fatbin/".length()), hash);
            }
        });
        Map<String, String> fatbins = hashes(RESOURCES, ".fatbin");
        Map<String, String> expectedNames = new TreeMap<>();
        hashes(SOURCES, ".cu").keySet().forEach(cu -> expectedNames.put(cu.replace(".cu", ".fatbin"), cu));
        assertThat(fatbins.keySet()).as("one fatbin per .cu" + FIX).isEqualTo(expectedNames.keySet());
        fatbins.forEach((name, hash) -> assertThat(hash)
                .as(name + " is not the fatbin the manifest records" + FIX).isEqualTo(recorded.get(name)));
        long total = 0;
        for (String name : fatbins.keySet()) {
            total += Files.size(RESOURCES.resolve(name));
        }
        assertThat(total).as("total fatbin bytes").isLessThanOrEqualTo(MAX_TOTAL_FATBIN_BYTES);
    }

    @Test
    void everyLauncherModuleHasAFatbin() {
        for (String module : new String[] {
                io.inflow.gpu.backend.cuda.kernels.GemmKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.GemmTcKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.AttentionKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.FlashAttentionKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.LayerNormKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.EmbeddingKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.PoolingKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.ElementwiseKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.ActivationsKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.ImageKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.RetrievalKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.MaxSimKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.ClusterKernel.MODULE,
                io.inflow.gpu.backend.cuda.kernels.QuantKernel.MODULE}) {
            assertThat(KernelManifestTest.class.getResource(CudaContext.KERNEL_RESOURCES + module + ".fatbin"))
                    .as(module + ".fatbin on the classpath").isNotNull();
            assertThat(CudaContext.KERNEL_MODULES).as("the context loads " + module + " at creation")
                    .contains(module);
        }
    }

    /** The context loads every module at creation: the list names exactly the .cu families. */
    @Test
    void theContextLoadsEveryKernelFamily() throws Exception {
        assertThat(java.util.Set.copyOf(CudaContext.KERNEL_MODULES)).isEqualTo(hashes(SOURCES, ".cu").keySet().stream()
                .map(cu -> cu.replace(".cu", "")).collect(java.util.stream.Collectors.toSet()));
    }
}
