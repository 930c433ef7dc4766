package io.inflow.operators.batch;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every invalid batching value fails at construction with the Flink key a user has to change. */
class BatchingConfigTest {

    private static final int[] BUCKETS = {16, 32, 64};
    private static final Duration WAIT = Duration.ofMillis(50);

    @Test
    void zeroMaxRecordsNamesItsKey() {
        assertThatThrownBy(() -> new BatchingConfig(0, 4096, WAIT, BUCKETS, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.batch.max-records")
                .hasMessageContaining("was 0");
    }

    @Test
    void maxRecordsAboveTheLimitNamesItsKey() {
        assertThatThrownBy(() -> new BatchingConfig(65_537, 1 << 24, WAIT, BUCKETS, 2))
                .hasMessageContaining("inflow.batch.max-records")
                .hasMessageContaining("65536");
    }

    @Test
    void nonAscendingBucketsNameTheirKey() {
        assertThatThrownBy(() -> new BatchingConfig(64, 4096, WAIT, new int[] {16, 64, 32}, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.batch.length-buckets")
                .hasMessageContaining("[16, 64, 32]");
        assertThatThrownBy(() -> new BatchingConfig(64, 4096, WAIT, new int[] {16, 16, 32}, 2))
                .as("a repeated length is not strictly ascending")
                .hasMessageContaining("inflow.batch.length-buckets");
    }

    @Test
    void emptyOrNonPositiveBucketsNameTheirKey() {
        assertThatThrownBy(() -> new BatchingConfig(64, 4096, WAIT, new int[0], 2))
                .hasMessageContaining("inflow.batch.length-buckets");
        assertThatThrownBy(() -> new BatchingConfig(64, 4096, WAIT, new int[] {0, 16}, 2))
                .hasMessageContaining("inflow.batch.length-buckets");
    }

    @Test
    void maxTokensBelowTheLongestBucketNamesItsKey() {
        assertThatThrownBy(() -> new BatchingConfig(64, 63, WAIT, BUCKETS, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.batch.max-tokens")
                .hasMessageContaining("64")
                .hasMessageContaining("was 63");
    }

    @Test
    void maxTokensEqualToTheLongestBucketIsAccepted() {
        assertThat(new BatchingConfig(64, 64, WAIT, BUCKETS, 2).rowsFor(64)).isEqualTo(1);
    }

    @Test
    void zeroMaxInFlightNamesItsKey() {
        assertThatThrownBy(() -> new BatchingConfig(64, 4096, WAIT, BUCKETS, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.batch.max-in-flight")
                .hasMessageContaining("was 0");
    }

    @Test
    void zeroOrNegativeMaxWaitNamesItsKey() {
        assertThatThrownBy(() -> new BatchingConfig(64, 4096, Duration.ZERO, BUCKETS, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.batch.max-wait");
        assertThatThrownBy(() -> new BatchingConfig(64, 4096, Duration.ofMillis(-1), BUCKETS, 2))
                .hasMessageContaining("inflow.batch.max-wait");
        assertThatThrownBy(() -> new BatchingConfig(64, 4096, null, BUCKETS, 2))
                .hasMessageContaining("inflow.batch.max-wait");
    }

    @Test
    void defaultsMatchTheDocumentedValues() {
        BatchingConfig d = BatchingConfig.defaults();

        assertThat(d).isEqualTo(BatchingOptions.fromConfiguration(new Configuration()));
        assertThat(d.maxRecords()).isEqualTo(64);
        assertThat(d.maxTokens()).isEqualTo(8192);
        assertThat(d.maxWait()).isEqualTo(Duration.ofMillis(50));
        assertThat(d.buckets()).containsExactly(16, 32, 64, 128, 256);
        assertThat(d.maxInFlight()).isEqualTo(2);
    }

    @Test
    void fromConfigurationReadsEveryKey() {
        Configuration c = new Configuration();
        c.setString("inflow.batch.max-records", "32");
        c.setString("inflow.batch.max-tokens", "1024");
        c.setString("inflow.batch.max-wait", "120 ms");
        c.setString("inflow.batch.length-buckets", "8;16;32");
        c.setString("inflow.batch.max-in-flight", "4");

        BatchingConfig cfg = BatchingOptions.fromConfiguration(c);

        assertThat(cfg).isEqualTo(new BatchingConfig(32, 1024, Duration.ofMillis(120), new int[] {8, 16, 32}, 4));
    }

    @Test
    void fromConfigurationValidates() {
        Configuration c = new Configuration();
        c.setString("inflow.batch.length-buckets", "32;16");

        assertThatThrownBy(() -> BatchingOptions.fromConfiguration(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.batch.length-buckets");
    }

    @Test
    void rowsForIsCappedByRecordsForShortBucketsAndByTokensForLongOnes() {
        BatchingConfig cfg = new BatchingConfig(64, 8192, WAIT, new int[] {16, 32, 64, 128, 256}, 2);

        assertThat(cfg.rowsFor(16)).as("8192/16 = 512 rows, capped by max records").isEqualTo(64);
        assertThat(cfg.rowsFor(128)).as("8192/128 = 64 rows, both limits agree").isEqualTo(64);
        assertThat(cfg.rowsFor(256)).as("8192/256 = 32 rows, capped by max tokens").isEqualTo(32);
    }

    @Test
    void rowsForRoundsDownSoPaddedTokensNeverExceedTheLimit() {
        BatchingConfig cfg = new BatchingConfig(64, 1000, WAIT, new int[] {300}, 2);

        assertThat(cfg.rowsFor(300)).isEqualTo(3);
        assertThat(cfg.rowsFor(300) * 300).isLessThanOrEqualTo(cfg.maxTokens());
    }

    @Test
    void bucketsAreCopiedInAndOut() {
        int[] given = {16, 32, 64};
        BatchingConfig cfg = new BatchingConfig(64, 4096, WAIT, given, 2);

        given[2] = 9999;
        cfg.buckets()[0] = -1;

        assertThat(cfg.buckets()).containsExactly(16, 32, 64);
    }
}
