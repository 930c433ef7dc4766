package io.inflow.operators.embed;

import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.backend.cuda.GemmPrecision;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The CUDA backend's settings ({@code inflow.cuda.*}) as Flink options, read from Flink's configuration (a cluster's
 * config file, a job's {@code --config} file or {@code -D} flags) when the job is built; the resulting
 * {@link CudaBackendConfig} travels in the encoder specs to the TaskManagers, where it is handed to
 * {@code Backends.create}. They apply when {@code inflow.compute.backend} is {@code CUDA}, or {@code AUTO} on a host
 * with a GPU. Keys and defaults are {@link CudaBackendConfig}'s, so the gpu module stays free of Flink.
 *
 * <pre>{@code
 * inflow.compute.backend: CUDA
 * inflow.cuda.pool-bytes: 4 gb
 * inflow.cuda.sync-after-launch: true    # debugging only
 *
 * CudaBackendConfig cuda = CudaOptions.fromConfiguration(config);
 * }</pre>
 */
public final class CudaOptions {

    public static final ConfigOption<Integer> DEVICE = ConfigOptions.key(CudaBackendConfig.DEVICE)
            .intType().defaultValue(CudaBackendConfig.DEFAULT_DEVICE)
            .withDescription("CUDA device ordinal the encoders of a TaskManager run on.");

    public static final ConfigOption<MemorySize> POOL_BYTES = ConfigOptions.key(CudaBackendConfig.POOL_BYTES)
            .memoryType().defaultValue(new MemorySize(CudaBackendConfig.DEFAULT_POOL_BYTES))
            .withDescription("Device memory each CUDA backend (one per encoder and TaskManager) reserves at start and"
                    + " never grows. Larger fits larger batches; a batch that does not fit is split, not failed.");

    public static final ConfigOption<MemorySize> STAGING_BYTES = ConfigOptions.key(CudaBackendConfig.STAGING_BYTES)
            .memoryType().defaultValue(new MemorySize(CudaBackendConfig.DEFAULT_STAGING_BYTES))
            .withDescription("Pinned host buffer for copies to and from the device (64 kb to 2 gb): larger means"
                    + " fewer round trips for big tensors, at the cost of page-locked memory.");

    public static final ConfigOption<Boolean> SYNC_AFTER_LAUNCH = ConfigOptions.key(CudaBackendConfig.SYNC_AFTER_LAUNCH)
            .booleanType().defaultValue(CudaBackendConfig.DEFAULT_SYNC_AFTER_LAUNCH)
            .withDescription("Debugging switch: synchronise after every kernel launch, so a kernel fault is reported"
                    + " by the launch that caused it (kernel name and shapes), at the cost of all CPU/GPU overlap.");

    public static final ConfigOption<GemmPrecision> GEMM_PRECISION = ConfigOptions.key(CudaBackendConfig.GEMM_PRECISION)
            .enumType(GemmPrecision.class).defaultValue(CudaBackendConfig.DEFAULT_GEMM_PRECISION)
            .withDescription("What the GEMM rounds its inputs to on the tensor cores (float32 accumulation): BF16"
                    + " (wider range) or FP16 (more mantissa bits).");

    private CudaOptions() {
    }

    /**
     * The CUDA settings of {@code config} (defaults where unset). A value out of range fails naming its key.
     */
    public static CudaBackendConfig fromConfiguration(ReadableConfig config) {
        return CudaBackendConfig.builder()
                .device(config.get(DEVICE))
                .poolBytes(config.get(POOL_BYTES).getBytes())
                .stagingBytes(config.get(STAGING_BYTES).getBytes())
                .syncAfterLaunch(config.get(SYNC_AFTER_LAUNCH))
                .gemmPrecision(config.get(GEMM_PRECISION))
                .build();
    }
}
