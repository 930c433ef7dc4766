package io.inflow.operators.batch;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;

import java.time.Duration;
import java.util.List;

/**
 * Flink configuration keys of the micro-batcher (set them in the Flink configuration or with {@code -Dkey=value}).
 *
 * <p>{@code BatchingConfig cfg = BatchingOptions.fromConfiguration(flinkConfig);}
 */
public final class BatchingOptions {

    public static final ConfigOption<Integer> MAX_RECORDS = ConfigOptions.key("inflow.batch.max-records")
            .intType().defaultValue(64)
            .withDescription("Most records in one micro-batch.");

    public static final ConfigOption<Integer> MAX_TOKENS = ConfigOptions.key("inflow.batch.max-tokens")
            .intType().defaultValue(8192)
            .withDescription("Most padded tokens (rows x bucket length) in one micro-batch; bounds encoder memory.");

    public static final ConfigOption<Duration> MAX_WAIT = ConfigOptions.key("inflow.batch.max-wait")
            .durationType().defaultValue(Duration.ofMillis(50))
            .withDescription("Longest a record waits for its batch to fill before the batch is computed anyway.");

    public static final ConfigOption<List<Integer>> BUCKETS = ConfigOptions.key("inflow.batch.length-buckets")
            .intType().asList().defaultValues(16, 32, 64, 128, 256)
            .withDescription("Ascending padded sequence lengths; texts are grouped by the smallest bucket that"
                    + " holds them so padding stays small. The last must be >= inflow.text.max-tokens.");

    public static final ConfigOption<Integer> MAX_IN_FLIGHT = ConfigOptions.key("inflow.batch.max-in-flight")
            .intType().defaultValue(2)
            .withDescription("Batches being computed at once per operator instance before back pressure.");

    private BatchingOptions() {
    }

    /** Reads and validates the batching keys; the error names the key and the allowed range. */
    public static BatchingConfig fromConfiguration(ReadableConfig config) {
        int[] buckets = config.get(BUCKETS).stream().mapToInt(Integer::intValue).toArray();
        return new BatchingConfig(config.get(MAX_RECORDS), config.get(MAX_TOKENS), config.get(MAX_WAIT), buckets,
                config.get(MAX_IN_FLIGHT));
    }
}
