package io.inflow.operators.batch;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;

import java.time.Duration;

/**
 * Flink configuration keys of the image micro-batcher (set them in the Flink configuration or with
 * {@code -Dkey=value}).
 *
 * <p>{@code ImageBatchingConfig cfg = ImageBatchingOptions.fromConfiguration(flinkConfig);}
 */
public final class ImageBatchingOptions {

    public static final ConfigOption<Integer> MAX_RECORDS = ConfigOptions.key("inflow.image.batch.max-records")
            .intType().defaultValue(64)
            .withDescription("Most images in one micro-batch.");

    public static final ConfigOption<Long> MAX_PIXEL_BYTES = ConfigOptions.key("inflow.image.batch.max-pixel-bytes")
            .longType().defaultValue(32L << 20)
            .withDescription("Most decoded sample bytes (width x height x channels, summed) in one micro-batch;"
                    + " bounds the memory of one batch. A single larger image still forms a batch of its own.");

    public static final ConfigOption<Duration> MAX_WAIT = ConfigOptions.key("inflow.image.batch.max-wait")
            .durationType().defaultValue(Duration.ofMillis(50))
            .withDescription("Longest an image waits for its batch to fill before the batch is computed anyway.");

    public static final ConfigOption<Integer> MAX_IN_FLIGHT = ConfigOptions.key("inflow.image.batch.max-in-flight")
            .intType().defaultValue(2)
            .withDescription("Image batches being computed at once per operator instance before back pressure.");

    private ImageBatchingOptions() {
    }

    /** Reads and validates the keys; the error names the key and the allowed range. */
    public static ImageBatchingConfig fromConfiguration(ReadableConfig config) {
        return new ImageBatchingConfig(config.get(MAX_RECORDS), config.get(MAX_PIXEL_BYTES), config.get(MAX_WAIT),
                config.get(MAX_IN_FLIGHT));
    }
}
