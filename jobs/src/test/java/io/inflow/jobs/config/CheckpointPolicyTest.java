package io.inflow.jobs.config;

import io.inflow.connectors.kafka.KafkaOptions;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.CheckpointConfig;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CheckpointPolicyTest {

    private static Configuration conf() {
        Configuration c = new Configuration();
        c.set(KafkaOptions.BOOTSTRAP_SERVERS, "localhost:9092");
        return c;
    }

    private static CheckpointConfig applied(Configuration c) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(c);
        CheckpointPolicy.apply(env, c, KafkaOptions.settings(c));
        return env.getCheckpointConfig();
    }

    @Test
    void unsetKeysGetInflowDefaultsNotFlinks() {
        CheckpointConfig c = applied(conf());
        assertThat(c.getCheckpointInterval()).isEqualTo(Duration.ofSeconds(10).toMillis());
        assertThat(c.getCheckpointTimeout()).isEqualTo(CheckpointPolicy.DEFAULT_TIMEOUT.toMillis());
        // Flink's 0 would restart the job at the first checkpoint that times out during a stall
        assertThat(c.getTolerableCheckpointFailureNumber()).isEqualTo(CheckpointPolicy.DEFAULT_TOLERABLE_FAILURES);
    }

    @Test
    void keysTheUserSetAreKept() {
        Configuration c = conf();
        c.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofSeconds(20));
        c.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, 0);
        c.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
        CheckpointConfig cc = applied(c);
        assertThat(cc.getCheckpointTimeout()).isEqualTo(20_000);
        assertThat(cc.getTolerableCheckpointFailureNumber()).isZero();
        assertThat(cc.getCheckpointInterval()).isEqualTo(1_000);
    }

    @Test
    void aTransactionThatCouldOutliveItsTimeoutFailsAtStartNamingTheKeys() {
        Configuration c = conf();
        // defaults: (3 + 1) x (2 min + 10 s) = 8 min 40 s, longer than a 5 min transaction timeout
        c.set(KafkaOptions.TRANSACTION_TIMEOUT, Duration.ofMinutes(5));
        assertThatThrownBy(() -> applied(c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("execution.checkpointing.tolerable-failed-checkpoints=3")
                .hasMessageContaining("execution.checkpointing.timeout=120000 ms")
                .hasMessageContaining("inflow.kafka.transaction-timeout (300000 ms)")
                .hasMessageContaining("could stay open 520000 ms");
        // the same timeouts with no tolerance fit: 2 min 10 s
        c.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, 0);
        assertThat(applied(c).getTolerableCheckpointFailureNumber()).isZero();
    }

    @Test
    void theBoundIsStrictAndAppliesOnlyToExactlyOnce() {
        Configuration c = conf();
        c.set(KafkaOptions.TRANSACTION_TIMEOUT, Duration.ofMinutes(10));
        c.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(30));
        c.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofSeconds(120));
        c.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, 3); // exactly 4 x 150 s = 10 min: refused
        assertThatThrownBy(() -> applied(c)).hasMessageContaining("could stay open 600000 ms");
        c.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofSeconds(119)); // 4 x 149 s: accepted
        assertThat(applied(c).getCheckpointTimeout()).isEqualTo(119_000);
        c.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofMinutes(60));
        c.set(KafkaOptions.DELIVERY_GUARANTEE, "at-least-once"); // no transactions to outlive
        assertThat(applied(c).getCheckpointTimeout()).isEqualTo(3_600_000);
    }

    @Test
    void anIntervalAsLongAsTheTransactionTimeoutIsRefused() {
        Configuration c = conf();
        c.set(KafkaOptions.TRANSACTION_TIMEOUT, Duration.ofSeconds(10));
        assertThatThrownBy(() -> applied(c))
                .hasMessageContaining("the checkpoint interval (10000 ms) must be shorter than"
                        + " inflow.kafka.transaction-timeout (10000 ms)");
    }
}
