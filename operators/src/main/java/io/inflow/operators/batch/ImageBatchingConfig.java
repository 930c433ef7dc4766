package io.inflow.operators.batch;

import java.io.Serializable;
import java.time.Duration;

import static io.inflow.operators.batch.KeyChecks.require;

/**
 * Limits of one image micro-batch. A batch is handed to compute as soon as any limit is reached.
 *
 * <p>{@code ImageBatchingConfig cfg = new ImageBatchingConfig(64, 32L << 20, Duration.ofMillis(50), 2);}
 *
 * @param maxRecords images per batch
 * @param maxPixelBytes decoded 8-bit sample bytes per batch (width x height x channels summed over the images);
 *     bounds the host and device memory of one batch whatever the image sizes (one 4096 x 4096 RGB image is 48 MiB
 *     and always fits a batch of its own)
 * @param maxWait longest time the first image of a batch waits for the batch to fill
 * @param maxInFlight batches handed to compute but not yet emitted before back pressure
 */
public record ImageBatchingConfig(int maxRecords, long maxPixelBytes, Duration maxWait, int maxInFlight)
        implements Serializable {

    public ImageBatchingConfig {
        require(maxRecords >= 1 && maxRecords <= 4096, ImageBatchingOptions.MAX_RECORDS.key(), "between 1 and 4096",
                maxRecords);
        require(maxPixelBytes >= 1 && maxPixelBytes <= (1L << 31) - 1, ImageBatchingOptions.MAX_PIXEL_BYTES.key(),
                "between 1 byte and 2 GiB - 1 (an Arrow binary column holds at most that)", maxPixelBytes);
        require(maxWait != null && !maxWait.isNegative() && !maxWait.isZero(), ImageBatchingOptions.MAX_WAIT.key(),
                "a positive duration", maxWait);
        require(maxInFlight >= 1 && maxInFlight <= 64, ImageBatchingOptions.MAX_IN_FLIGHT.key(), "between 1 and 64",
                maxInFlight);
    }

    /** Defaults: 64 images, 32 MiB of pixels, 50 ms, 2 batches in flight. */
    public static ImageBatchingConfig defaults() {
        return new ImageBatchingConfig(ImageBatchingOptions.MAX_RECORDS.defaultValue(),
                ImageBatchingOptions.MAX_PIXEL_BYTES.defaultValue(), ImageBatchingOptions.MAX_WAIT.defaultValue(),
                ImageBatchingOptions.MAX_IN_FLIGHT.defaultValue());
    }
}
