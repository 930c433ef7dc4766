package io.inflow.operators.batch;

import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;

/**
 * How a batching operator runs its batches, whatever they hold: how long the first row of a batch may wait, how many
 * batches may compute at once, and the labels of its metrics.
 *
 * <p>{@code new BatchSettings(Duration.ofMillis(50), 2, "embed", "text")}
 *
 * @param maxWait longest time the first row of a batch waits for the batch to fill
 * @param maxInFlight batches handed to compute and not yet emitted; when reached, the task thread yields to its
 *     mailbox (back pressure)
 * @param metricsOperator the {@code operator} label of its metrics
 * @param modality the {@code modality} label of its metrics ({@code text}, {@code image}, ...)
 */
public record BatchSettings(Duration maxWait, int maxInFlight, String metricsOperator, String modality)
        implements Serializable {

    public BatchSettings {
        Objects.requireNonNull(maxWait, "maxWait");
        if (maxWait.isNegative() || maxWait.isZero()) {
            throw new IllegalArgumentException("maxWait must be positive (was " + maxWait + ")");
        }
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be at least 1 (was " + maxInFlight + ")");
        }
        Objects.requireNonNull(metricsOperator, "metricsOperator");
        Objects.requireNonNull(modality, "modality");
    }
}
