package io.inflow.operators.embed;

import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.backend.cuda.GemmPrecision;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code inflow.cuda.*} options: same keys and defaults as the gpu module's record, read from a config file. */
class CudaOptionsTest {

    @Test
    void everyOptionIsDescribedAndItsDefaultsAreTheBackendDefaults() throws Exception {
        List<ConfigOption<?>> options = new ArrayList<>();
        for (Field f : CudaOptions.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == ConfigOption.class) {
                options.add((ConfigOption<?>) f.get(null));
            }
        }
        assertThat(options).extracting(ConfigOption::key).containsExactlyInAnyOrder(CudaBackendConfig.DEVICE,
                CudaBackendConfig.POOL_BYTES, CudaBackendConfig.STAGING_BYTES, CudaBackendConfig.SYNC_AFTER_LAUNCH,
                CudaBackendConfig.GEMM_PRECISION);
        assertThat(options).allSatisfy(o -> {
            assertThat(o.hasDefaultValue()).as(o.key()).isTrue();
            assertThat(o.description().toString()).as(o.key()).isNotBlank();
        });
        assertThat(CudaOptions.fromConfiguration(new Configuration())).isEqualTo(CudaBackendConfig.defaults());
    }

    @Test
    void aClusterConfigFileSetsThem(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.yaml"), String.join("\n",
                "inflow.cuda.device: 1",
                "inflow.cuda.pool-bytes: 4 gb",
                "inflow.cuda.staging-bytes: 16 mb",
                "inflow.cuda.sync-after-launch: true",
                "inflow.cuda.gemm-precision: FP16", ""));
        Configuration fromFile = GlobalConfiguration.loadConfiguration(dir.toString());

        assertThat(CudaOptions.fromConfiguration(fromFile))
                .isEqualTo(new CudaBackendConfig(1, 4L << 30, 16L << 20, true, GemmPrecision.FP16));
    }

    @Test
    void outOfRangeValuesNameTheKey() {
        Configuration c = new Configuration();
        c.setString("inflow.cuda.staging-bytes", "1 kb");
        assertThatThrownBy(() -> CudaOptions.fromConfiguration(c)).hasMessageContaining("inflow.cuda.staging-bytes");
    }
}
