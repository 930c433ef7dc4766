package io.inflow.jobs.config;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.environment.CheckpointConfig;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;

/**
 * How the pipeline checkpoints, and the one invariant exactly-once output needs from it. Where the configuration is
 * silent Inflow picks its own defaults instead of Flink's:
 * <ul>
 *   <li>{@code execution.checkpointing.interval}: {@code inflow.checkpoint.default-interval} (10 s);</li>
 *   <li>{@code execution.checkpointing.timeout}: {@link #DEFAULT_TIMEOUT} (Flink: 10 min);</li>
 *   <li>{@code execution.checkpointing.tolerable-failed-checkpoints}: {@link #DEFAULT_TOLERABLE_FAILURES} (Flink:
 *       0, so one checkpoint that times out during a compute stall would restart the whole job).</li>
 * </ul>
 * The invariant: a Kafka transaction opened after one checkpoint is committed when the next one completes. Up to
 * {@code tolerable} checkpoints in a row may time out before that, so the oldest open transaction can be
 * {@code (tolerable + 1) x (timeout + interval)} old; the broker aborts it after {@code inflow.kafka.transaction-timeout},
 * and its records would be lost. {@link #apply} refuses such a configuration at start; past that bound the job
 * fails over (and replays from its checkpoint) before the broker can abort anything.
 *
 * <pre>{@code
 * CheckpointPolicy.apply(env, config, KafkaOptions.settings(config));   // in InflowPipeline.build
 * }</pre>
 */
public final class CheckpointPolicy {

    /** Inflow's checkpoint timeout: its state is small (the index aside), so a checkpoint takes seconds. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);
    /** Checkpoints in a row that may fail (time out, e.g. during a stall) before the job fails over. */
    public static final int DEFAULT_TOLERABLE_FAILURES = 3;

    private CheckpointPolicy() {
    }

    /** Applies Inflow's defaults for unset keys, then checks the exactly-once invariant. */
    public static void apply(StreamExecutionEnvironment env, ReadableConfig config, KafkaSettings kafka) {
        CheckpointConfig c = env.getCheckpointConfig();
        if (!c.isCheckpointingEnabled()) {
            env.enableCheckpointing(PipelineSettings.defaultCheckpointInterval(config).toMillis());
        }
        if (config.getOptional(CheckpointingOptions.CHECKPOINTING_TIMEOUT).isEmpty()) {
            c.setCheckpointTimeout(DEFAULT_TIMEOUT.toMillis());
        }
        if (config.getOptional(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER).isEmpty()) {
            c.setTolerableCheckpointFailureNumber(DEFAULT_TOLERABLE_FAILURES);
        }
        check(c.getCheckpointInterval(), c.getCheckpointTimeout(), c.getTolerableCheckpointFailureNumber(),
                kafka.deliveryGuarantee(), kafka.transactionTimeout());
    }

    /** The exactly-once invariant (see the class comment); a message naming every key involved when it fails. */
    static void check(long intervalMs, long timeoutMs, int tolerable, DeliveryGuarantee guarantee,
            Duration transactionTimeout) {
        if (guarantee != DeliveryGuarantee.EXACTLY_ONCE) {
            return;
        }
        long transactionMs = transactionTimeout.toMillis();
        if (intervalMs >= transactionMs) {
            throw new IllegalArgumentException("the checkpoint interval (" + intervalMs + " ms) must be shorter than"
                    + " " + KafkaOptions.TRANSACTION_TIMEOUT.key() + " (" + transactionMs + " ms): transactions stay"
                    + " open from one checkpoint to the next");
        }
        long oldest = Math.multiplyExact((long) tolerable + 1, timeoutMs + intervalMs);
        if (oldest >= transactionMs) {
            throw new IllegalArgumentException("with " + CheckpointingOptions.TOLERABLE_FAILURE_NUMBER.key() + "="
                    + tolerable + ", " + CheckpointingOptions.CHECKPOINTING_TIMEOUT.key() + "=" + timeoutMs
                    + " ms and a checkpoint interval of " + intervalMs + " ms, a Kafka transaction could stay open "
                    + oldest + " ms, longer than " + KafkaOptions.TRANSACTION_TIMEOUT.key() + " (" + transactionMs
                    + " ms): the broker would abort it and its records would be lost. Lower the timeout or the"
                    + " tolerable failures, or raise the transaction timeout (at most the broker's"
                    + " transaction.max.timeout.ms, 15 min by default)");
        }
    }
}
