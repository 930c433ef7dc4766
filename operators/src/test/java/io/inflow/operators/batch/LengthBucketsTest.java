package io.inflow.operators.batch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A text goes to the smallest bucket that holds it; one that fits none fails with what to change. */
class LengthBucketsTest {

    private final LengthBuckets buckets = new LengthBuckets(new int[] {16, 32, 64, 128, 256});

    @ParameterizedTest(name = "{0} tokens -> bucket {1}")
    @CsvSource({
        "1,   0",
        "15,  0",
        "16,  0",
        "17,  1",
        "31,  1",
        "32,  1",
        "33,  2",
        "64,  2",
        "65,  3",
        "128, 3",
        "129, 4",
        "255, 4",
        "256, 4"})
    void picksTheSmallestBucketThatHolds(int tokens, int expected) {
        int index = buckets.indexFor(tokens);

        assertThat(index).isEqualTo(expected);
        assertThat(buckets.length(index)).isGreaterThanOrEqualTo(tokens);
        if (index > 0) {
            assertThat(buckets.length(index - 1)).as("the next smaller bucket is too short").isLessThan(tokens);
        }
    }

    @Test
    void beyondTheLongestBucketFailsWithWhatToChange() {
        assertThatThrownBy(() -> buckets.indexFor(257))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("257")
                .hasMessageContaining("256")
                .hasMessageContaining("inflow.batch.length-buckets")
                .hasMessageContaining("inflow.text.max-tokens");
    }

    @Test
    void singleBucket() {
        LengthBuckets one = new LengthBuckets(new int[] {8});

        assertThat(one.indexFor(1)).isZero();
        assertThat(one.indexFor(8)).isZero();
        assertThat(one.count()).isEqualTo(1);
        assertThat(one.longest()).isEqualTo(8);
        assertThatThrownBy(() -> one.indexFor(9)).hasMessageContaining("inflow.batch.length-buckets");
    }

    @Test
    void accessorsAndDefensiveCopy() {
        int[] given = {16, 32};
        LengthBuckets b = new LengthBuckets(given);
        given[1] = 1000;

        assertThat(b.count()).isEqualTo(2);
        assertThat(b.length(0)).isEqualTo(16);
        assertThat(b.longest()).isEqualTo(32);
        assertThatThrownBy(() -> b.indexFor(33)).isInstanceOf(IllegalArgumentException.class);
    }
}
