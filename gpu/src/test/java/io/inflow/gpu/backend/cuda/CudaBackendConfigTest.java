package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ByteArrayInputStream;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CUDA settings without a device: defaults, string settings by key, range checks naming the key, serialization. */
class CudaBackendConfigTest {

    @Test
    void defaultsAreTheDocumentedOnes() {
        CudaBackendConfig c = CudaBackendConfig.defaults();
        assertThat(c).isEqualTo(new CudaBackendConfig(0, 2L << 30, 8L << 20, false, GemmPrecision.BF16));
        assertThat(CudaBackendConfig.builder().build()).isEqualTo(c);
    }

    @Test
    void fromMapReadsEveryKeyAndIgnoresOtherNamespaces() {
        CudaBackendConfig c = CudaBackendConfig.fromMap(Map.of(
                CudaBackendConfig.DEVICE, "1",
                CudaBackendConfig.POOL_BYTES, String.valueOf(64L << 20),
                CudaBackendConfig.STAGING_BYTES, " 131072 ",
                CudaBackendConfig.SYNC_AFTER_LAUNCH, "TRUE",
                CudaBackendConfig.GEMM_PRECISION, "fp16",
                "inflow.compute.backend", "CUDA"));
        assertThat(c).isEqualTo(new CudaBackendConfig(1, 64L << 20, 128L << 10, true, GemmPrecision.FP16));
        assertThat(CudaBackendConfig.fromMap(Map.of())).isEqualTo(CudaBackendConfig.defaults());
    }

    @Test
    void badSettingsFailNamingTheKey() {
        assertThatThrownBy(() -> CudaBackendConfig.fromMap(Map.of("inflow.cuda.pool-byte", "1")))
                .hasMessageStartingWith("unknown key inflow.cuda.pool-byte (known: inflow.cuda.device,");
        assertThatThrownBy(() -> CudaBackendConfig.fromMap(Map.of(CudaBackendConfig.POOL_BYTES, "2 gb")))
                .hasMessage("inflow.cuda.pool-bytes must be an integer (found '2 gb')");
        assertThatThrownBy(() -> CudaBackendConfig.fromMap(Map.of(CudaBackendConfig.SYNC_AFTER_LAUNCH, "yes")))
                .hasMessage("inflow.cuda.sync-after-launch must be true or false (found 'yes')");
        assertThatThrownBy(() -> CudaBackendConfig.fromMap(Map.of(CudaBackendConfig.GEMM_PRECISION, "fp8")))
                .hasMessage("inflow.cuda.gemm-precision must be one of [BF16, FP16] (found 'fp8')");
        assertThatThrownBy(() -> CudaBackendConfig.builder().poolBytes(1000).build())
                .hasMessageContaining("inflow.cuda.pool-bytes must be at least");
        assertThatThrownBy(() -> CudaBackendConfig.fromMap(Map.of(CudaBackendConfig.DEVICE, "-1")))
                .hasMessage("inflow.cuda.device must be >= 0 (found -1)");
    }

    /** The GPU test kit's path: {@code mvn ... -Dinflow.cuda.sync-after-launch=true}. */
    @Test
    void systemPropertiesAreReadForTheGpuTestKit() {
        System.setProperty(CudaBackendConfig.SYNC_AFTER_LAUNCH, "true");
        System.setProperty(CudaBackendConfig.POOL_BYTES, String.valueOf(64L << 20));
        try {
            CudaBackendConfig c = CudaBackendConfig.fromSystemProperties();
            assertThat(c.syncAfterLaunch()).isTrue();
            assertThat(c.poolBytes()).isEqualTo(64L << 20);
            assertThat(c.gemmPrecision()).isEqualTo(GemmPrecision.BF16);
        } finally {
            System.clearProperty(CudaBackendConfig.SYNC_AFTER_LAUNCH);
            System.clearProperty(CudaBackendConfig.POOL_BYTES);
        }
        assertThat(CudaBackendConfig.builder().build().syncAfterLaunch()).as("the builder ignores them").isFalse();
    }

    /** The record travels inside the operators' encoder spec to the TaskManagers. */
    @Test
    void survivesJavaSerialization() throws Exception {
        CudaBackendConfig c = CudaBackendConfig.builder().device(2).syncAfterLaunch(true).build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertThat(in.readObject()).isEqualTo(c);
        }
    }
}
