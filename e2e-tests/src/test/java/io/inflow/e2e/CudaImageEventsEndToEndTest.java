package io.inflow.e2e;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaAvailability;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;

/**
 * The image end-to-end run with {@code inflow.compute.backend=CUDA}: preprocessing (the {@code preprocess_u8_f32}
 * kernel) and the ViT on the GPU, checked against the CPU encoder. Skipped with the reason where no CUDA device is
 * found. Tolerances are those of the BF16 GEMMs (see {@code CudaVitEncoderTest}): cosine >= 0.999 per embedding, the
 * same top-1 class on at least 99% of the images (a BF16 run may swap two nearly tied classes), top-1 probabilities
 * within 0.01 where the classes agree.
 */
@Tag("gpu")
class CudaImageEventsEndToEndTest extends ImageEventsEndToEndTest {

    @Override
    protected BackendKind backend() {
        return BackendKind.CUDA;
    }

    /**
     * The GPU test kit's {@code -Dinflow.cuda.*} switches (e.g. {@code -Dinflow.cuda.sync-after-launch=true}) become
     * the pipeline's Flink options, which is how a deployment sets them.
     */
    @Override
    protected void configure(Configuration conf) {
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith(CudaBackendConfig.PREFIX)) {
                conf.setString(key, System.getProperty(key));
            }
        }
    }

    @Override
    protected void assumeBackendPresent() {
        CudaAvailability.Result probe = CudaAvailability.probe();
        Assumptions.assumeTrue(probe.available(), () -> "no CUDA device: " + probe.reason());
    }

    @Override
    protected double sameVectorCosine() {
        return 0.999;
    }

    @Override
    protected double probabilityTolerance() {
        return 0.01;
    }

    @Override
    protected double top1Agreement() {
        return 0.99;
    }

    @Override
    protected String backendLabel() {
        return "cuda";
    }
}
