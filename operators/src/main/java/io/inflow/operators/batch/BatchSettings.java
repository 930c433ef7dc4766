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
 * @param maxHold longest time the first row of a batch waits while the compute's shared model is backlogged
 *     ({@link BatchCompute#backlogged()}): past {@code maxWait} the batch keeps filling instead of queueing behind
 *     another batch, until it is full, the model's queue empties, or {@code maxHold} is reached; at least
 *     {@code maxWait}
 */
public record BatchSettings(Duration maxWait, int maxInFlight, String metricsOperator, String modality,
        Duration maxHold) implements Serializable {

    /** Default of {@code maxHold}. */
    public static final Duration DEFAULT_MAX_HOLD = Duration.ofSeconds(1);

    /** Settings with the default {@code maxHold} (but never below {@code maxWait}). */
    public BatchSettings(Duration maxWait, int maxInFlight, String metricsOperator, String modality) {
        this(maxWait, maxInFlight, metricsOperator, modality,
                maxWait != null && maxWait.compareTo(DEFAULT_MAX_HOLD) > 0 ? maxWait : DEFAULT_MAX_HOLD);
    }

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
        Objects.requireNonNull(maxHold, "maxHold");
        if (maxHold.compareTo(maxWait) < 0) {
            throw new IllegalArgumentException("maxHold (" + maxHold + ") must be at least maxWait (" + maxWait + ")");
        }
    }
}
