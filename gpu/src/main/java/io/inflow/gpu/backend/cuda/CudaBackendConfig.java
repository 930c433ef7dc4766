package io.inflow.gpu.backend.cuda;

import java.io.Serializable;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Settings of a {@link CudaBackend}, each with its trade-off: a plain immutable value, free of Flink. A deployment
 * sets them as the {@code inflow.cuda.*} keys of Flink's configuration (the operators module's {@code CudaOptions}
 * reads them and the encoder spec carries this record to the TaskManagers); code uses the builder, or
 * {@link #fromMap} for string settings. The key names and defaults are the constants below.
 *
 * <pre>{@code
 * CudaBackendConfig cfg = CudaBackendConfig.builder()
 *         .poolBytes(4L << 30)            // device memory reserved at start
 *         .syncAfterLaunch(true)          // debug: report kernel faults at their launch
 *         .build();
 * try (Backend b = CudaBackend.create(cfg)) { ... }
 * }</pre>
 *
 * @param device          CUDA device ordinal ({@value #DEVICE}, default 0)
 * @param poolBytes       device memory taken at start by one {@code cuMemAlloc} and never grown
 *                        ({@value #POOL_BYTES}, default 2 GiB): larger fits larger batches, but every
 *                        backend (one per encoder) reserves its own, so several per GPU must share its memory.
 *                        A batch that does not fit is split by the encoder, not failed
 * @param stagingBytes    pinned host buffer for copies ({@value #STAGING_BYTES}, default 8 MiB): larger
 *                        means fewer copy round trips for big tensors (weights), at the cost of page-locked RAM
 * @param syncAfterLaunch synchronise the stream after every kernel ({@value #SYNC_AFTER_LAUNCH}, default
 *                        false): asynchronous kernel faults are then reported by the launch that caused them, with
 *                        its kernel name and shapes, at the cost of all CPU/GPU overlap. A debugging switch
 * @param gemmPrecision   what the GEMM rounds its inputs to ({@value #GEMM_PRECISION}, default BF16)
 */
public record CudaBackendConfig(int device, long poolBytes, long stagingBytes, boolean syncAfterLaunch,
                                GemmPrecision gemmPrecision) implements Serializable {
    public static final String PREFIX = "inflow.cuda.";
    public static final String DEVICE = "inflow.cuda.device";
    public static final String POOL_BYTES = "inflow.cuda.pool-bytes";
    public static final String STAGING_BYTES = "inflow.cuda.staging-bytes";
    public static final String SYNC_AFTER_LAUNCH = "inflow.cuda.sync-after-launch";
    public static final String GEMM_PRECISION = "inflow.cuda.gemm-precision";

    public static final int DEFAULT_DEVICE = 0;
    public static final long DEFAULT_POOL_BYTES = 2L << 30;
    public static final long DEFAULT_STAGING_BYTES = 8L << 20;
    public static final boolean DEFAULT_SYNC_AFTER_LAUNCH = false;
    public static final GemmPrecision DEFAULT_GEMM_PRECISION = GemmPrecision.BF16;

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

    /** Every setting at its default. */
    public static CudaBackendConfig defaults() {
        return builder().build();
    }

    /**
     * The defaults, overridden by the {@code inflow.cuda.*} entries of {@code settings} (other keys are ignored).
     * Values are plain: an ordinal, byte counts as integers, {@code true}/{@code false}, a {@link GemmPrecision}
     * name. An unknown {@code inflow.cuda.*} key or a malformed value fails naming the key.
     */
    public static CudaBackendConfig fromMap(Map<String, String> settings) {
        Builder b = builder();
        for (Map.Entry<String, String> e : new TreeMap<>(settings).entrySet()) {
            String key = e.getKey();
            if (!key.startsWith(PREFIX)) {
                continue;
            }
            String value = e.getValue().trim();
            try {
                switch (key) {
                    case DEVICE -> b.device(Integer.parseInt(value));
                    case POOL_BYTES -> b.poolBytes(Long.parseLong(value));
                    case STAGING_BYTES -> b.stagingBytes(Long.parseLong(value));
                    case SYNC_AFTER_LAUNCH -> b.syncAfterLaunch(parseBoolean(key, value));
                    case GEMM_PRECISION -> b.gemmPrecision(GemmPrecision.valueOf(value.toUpperCase(Locale.ROOT)));
                    default -> throw new IllegalArgumentException("unknown key " + key + " (known: " + DEVICE + ", "
                            + POOL_BYTES + ", " + STAGING_BYTES + ", " + SYNC_AFTER_LAUNCH + ", " + GEMM_PRECISION
                            + ")");
                }
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException(key + " must be an integer (found '" + value + "')", ex);
            } catch (IllegalArgumentException ex) {
                if (key.equals(GEMM_PRECISION)) {
                    throw new IllegalArgumentException(key + " must be one of "
                            + java.util.Arrays.toString(GemmPrecision.values()) + " (found '" + value + "')", ex);
                }
                throw ex;
            }
        }
        return b.build();
    }

    /**
     * {@link #fromMap} over the JVM's system properties. Kept for the GPU test kit and the benchmarks only, which run
     * under Maven on a lent GPU host and take their debug switches from the command line
     * ({@code mvn -pl gpu -am test -Dsurefire.failIfNoSpecifiedTests=false -Dtest='Cuda*' -Dinflow.cuda.sync-after-launch=true}); the pipeline never reads system
     * properties: it reads Flink's configuration ({@code CudaOptions}) and passes the record down.
     */
    public static CudaBackendConfig fromSystemProperties() {
        Properties p = System.getProperties();
        Map<String, String> settings = new TreeMap<>();
        for (String name : p.stringPropertyNames()) {
            if (name.startsWith(PREFIX)) {
                settings.put(name, p.getProperty(name));
            }
        }
        return fromMap(settings);
    }

    private static boolean parseBoolean(String key, String value) {
        if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(value);
        }
        throw new IllegalArgumentException(key + " must be true or false (found '" + value + "')");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts from the defaults. */
    public static final class Builder {
        private int device = DEFAULT_DEVICE;
        private long poolBytes = DEFAULT_POOL_BYTES;
        private long stagingBytes = DEFAULT_STAGING_BYTES;
        private boolean syncAfterLaunch = DEFAULT_SYNC_AFTER_LAUNCH;
        private GemmPrecision gemmPrecision = DEFAULT_GEMM_PRECISION;

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
