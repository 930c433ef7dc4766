package io.inflow.operators.batch;

import java.io.Serializable;
import java.time.Duration;
import java.util.Arrays;

import static io.inflow.operators.batch.KeyChecks.require;

/**
 * Limits of one micro-batch. A batch is handed to compute as soon as any limit is reached.
 *
 * <p>{@code BatchingConfig cfg = new BatchingConfig(64, 8192, Duration.ofMillis(50), new int[] {16, 32, 64, 128, 256}, 2);}
 *
 * @param maxRecords rows per batch; larger batches use the encoder better, smaller ones cut latency
 * @param maxTokens padded tokens per batch ({@code rows x bucket length}); bounds the activation memory of one batch
 * @param maxWait longest time the first row of a batch waits for the batch to fill; bounds latency at low traffic
 * @param buckets ascending padded sequence lengths; a text goes to the smallest bucket that holds it, so padding stays
 *     below the gap between neighbouring buckets; the last bucket must hold the tokenizer's limit
 * @param maxInFlight batches handed to compute but not yet emitted; when reached, the task thread waits (back
 *     pressure). 2 lets one batch be filled while another computes.
 */
public record BatchingConfig(int maxRecords, int maxTokens, Duration maxWait, int[] buckets, int maxInFlight)
        implements Serializable {

    public BatchingConfig {
        require(maxRecords >= 1 && maxRecords <= 65_536, BatchingOptions.MAX_RECORDS.key(), "between 1 and 65536",
                maxRecords);
        require(maxWait != null && !maxWait.isNegative() && !maxWait.isZero(), BatchingOptions.MAX_WAIT.key(),
                "a positive duration", maxWait);
        require(buckets != null && buckets.length > 0, BatchingOptions.BUCKETS.key(), "a non-empty list", "empty");
        for (int i = 0; i < buckets.length; i++) {
            require(buckets[i] > 0 && (i == 0 || buckets[i] > buckets[i - 1]), BatchingOptions.BUCKETS.key(),
                    "strictly ascending positive lengths", Arrays.toString(buckets));
        }
        int longest = buckets[buckets.length - 1];
        require(maxTokens >= longest, BatchingOptions.MAX_TOKENS.key(),
                "at least the longest bucket (" + longest + ") so one row of every bucket fits", maxTokens);
        require(maxInFlight >= 1 && maxInFlight <= 64, BatchingOptions.MAX_IN_FLIGHT.key(), "between 1 and 64",
                maxInFlight);
        buckets = buckets.clone();
    }

    /** Defaults: 64 records, 8192 padded tokens, 50 ms, buckets 16..256, 2 batches in flight. */
    public static BatchingConfig defaults() {
        return new BatchingConfig(BatchingOptions.MAX_RECORDS.defaultValue(), BatchingOptions.MAX_TOKENS.defaultValue(),
                BatchingOptions.MAX_WAIT.defaultValue(),
                BatchingOptions.BUCKETS.defaultValue().stream().mapToInt(Integer::intValue).toArray(),
                BatchingOptions.MAX_IN_FLIGHT.defaultValue());
    }

    @Override
    public int[] buckets() {
        return buckets.clone();
    }

    /** Rows a batch of the given padded length can hold under both the record and the token limit. */
    public int rowsFor(int bucketLength) {
        return Math.max(1, Math.min(maxRecords, maxTokens / bucketLength));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchingConfig other && maxRecords == other.maxRecords && maxTokens == other.maxTokens
                && maxWait.equals(other.maxWait) && Arrays.equals(buckets, other.buckets)
                && maxInFlight == other.maxInFlight;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * (31 * maxRecords + maxTokens) + maxWait.hashCode()) + Arrays.hashCode(buckets))
                + maxInFlight;
    }

    @Override
    public String toString() {
        return "BatchingConfig[maxRecords=" + maxRecords + ", maxTokens=" + maxTokens + ", maxWait=" + maxWait
                + ", buckets=" + Arrays.toString(buckets) + ", maxInFlight=" + maxInFlight + "]";
    }
}
