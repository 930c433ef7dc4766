package io.inflow.gpu.backend.cuda;

/**
 * Settings of a {@link CudaBackend}, each with its trade-off. Defaults come from system properties so a
 * deployment can set them without code ({@code -Dinflow.cuda.pool-bytes=4294967296}); the builder overrides them.
 *
 * <pre>{@code
 * CudaBackendConfig cfg = CudaBackendConfig.builder()
 *         .poolBytes(4L << 30)            // device memory reserved at start
 *         .syncAfterLaunch(true)          // debug: report kernel faults at their launch
 *         .build();
 * try (Backend b = CudaBackend.create(cfg)) { ... }
 * }</pre>
 *
 * @param device          CUDA device ordinal ({@code inflow.cuda.device}, default 0)
 * @param poolBytes       device memory taken at start by one {@code cuMemAlloc} and never grown
 *                        ({@code inflow.cuda.pool-bytes}, default 2 GiB): larger fits larger batches, but every
 *                        backend (one per encoder) reserves its own, so several per GPU must share its memory.
 *                        A batch that does not fit is split by the encoder, not failed
 * @param stagingBytes    pinned host buffer for copies ({@code inflow.cuda.staging-bytes}, default 8 MiB): larger
 *                        means fewer copy round trips for big tensors (weights), at the cost of page-locked RAM
 * @param syncAfterLaunch synchronise the stream after every kernel ({@code inflow.cuda.sync-after-launch}, default
 *                        false): asynchronous kernel faults are then reported by the launch that caused them, with
 *                        its kernel name and shapes, at the cost of all CPU/GPU overlap. A debugging switch
 * @param gemmPrecision   what the GEMM rounds its inputs to ({@code inflow.cuda.gemm-precision}, default BF16)
 */
public record CudaBackendConfig(int device, long poolBytes, long stagingBytes, boolean syncAfterLaunch,
                                GemmPrecision gemmPrecision) {
    public static final String DEVICE = "inflow.cuda.device";
    public static final String POOL_BYTES = "inflow.cuda.pool-bytes";
    public static final String STAGING_BYTES = "inflow.cuda.staging-bytes";
    public static final String SYNC_AFTER_LAUNCH = "inflow.cuda.sync-after-launch";
    public static final String GEMM_PRECISION = "inflow.cuda.gemm-precision";

    static final long MIN_POOL_BYTES = 1L << 20;
    static final long MIN_STAGING_BYTES = 64L << 10;

    public CudaBackendConfig {
        if (device < 0) {
            throw new IllegalArgumentException(DEVICE + " must be >= 0 (found " + device + ")");
        }
        if (poolBytes < MIN_POOL_BYTES) {
            throw new IllegalArgumentException(POOL_BYTES + " must be at least " + MIN_POOL_BYTES + " (found " + poolBytes + ")");
        }
        if (stagingBytes < MIN_STAGING_BYTES || stagingBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(STAGING_BYTES + " must be in [" + MIN_STAGING_BYTES + ", "
                    + Integer.MAX_VALUE + "] (found " + stagingBytes + ")");
        }
        if (gemmPrecision == null) {
            throw new IllegalArgumentException(GEMM_PRECISION + " is null");
        }
    }

    /** The defaults, overridden by the {@code inflow.cuda.*} system properties that are set. */
    public static CudaBackendConfig fromSystemProperties() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts from {@link #fromSystemProperties()}'s values. */
    public static final class Builder {
        private int device = Integer.getInteger(DEVICE, 0);
        private long poolBytes = Long.getLong(POOL_BYTES, 2L << 30);
        private long stagingBytes = Long.getLong(STAGING_BYTES, 8L << 20);
        private boolean syncAfterLaunch = Boolean.getBoolean(SYNC_AFTER_LAUNCH);
        private GemmPrecision gemmPrecision = GemmPrecision.valueOf(
                System.getProperty(GEMM_PRECISION, GemmPrecision.BF16.name()).trim().toUpperCase(java.util.Locale.ROOT));

        private Builder() {
        }

        public Builder device(int device) {
            this.device = device;
            return this;
        }

        public Builder poolBytes(long poolBytes) {
            this.poolBytes = poolBytes;
            return this;
        }

        public Builder stagingBytes(long stagingBytes) {
            this.stagingBytes = stagingBytes;
            return this;
        }

        public Builder syncAfterLaunch(boolean syncAfterLaunch) {
            this.syncAfterLaunch = syncAfterLaunch;
            return this;
        }

        public Builder gemmPrecision(GemmPrecision gemmPrecision) {
            this.gemmPrecision = gemmPrecision;
            return this;
        }

        public CudaBackendConfig build() {
            return new CudaBackendConfig(device, poolBytes, stagingBytes, syncAfterLaunch, gemmPrecision);
        }
    }
}
