package io.inflow.sql;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The micro-batcher's two bounds: a batch goes when full, or max-wait after its first row. */
class RowBatcherTest {

    @Test
    void fullBatchesGoAtOnceAndTheRestAfterMaxWait() throws Exception {
        List<List<Integer>> batches = new CopyOnWriteArrayList<>();
        List<Long> waits = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        CountDownLatch three = new CountDownLatch(3);
        try (RowBatcher<Integer> batcher = new RowBatcher<>("test-batcher", 2, Duration.ofMillis(300),
                (rows, wait) -> {
                    batches.add(List.copyOf(rows));
                    waits.add(wait);
                    threads.add(Thread.currentThread().getName());
                    three.countDown();
                })) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 5; i++) {
                batcher.add(i);
            }
            assertThat(three.await(5, TimeUnit.SECONDS)).isTrue();
            long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(batches).containsExactly(List.of(0, 1), List.of(2, 3), List.of(4));
            // the two full batches did not wait for the timer; the last one did
            assertThat(waits.get(0)).isLessThan(TimeUnit.MILLISECONDS.toNanos(250));
            assertThat(waits.get(2)).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(290));
            assertThat(elapsedMs).isGreaterThanOrEqualTo(290);
            assertThat(threads).allMatch(t -> t.startsWith("test-batcher"));
            assertThat(batcher.pendingRows()).isZero();
        }
    }
}
