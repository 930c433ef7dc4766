package io.inflow.operators.runtime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A helper thread that dies of an uncaught exception must not end the JVM (Flink's default thread factory installs a
 * handler that calls {@code System.exit}, which would end this test's fork and fail the build).
 */
class HelperThreadsTest {

    @Test
    void anUncaughtExceptionEndsOnlyTheThread() throws Exception {
        ExecutorService pool = HelperThreads.pool("inflow-test-helper", 1);
        try {
            pool.execute(() -> {
                throw new IllegalStateException("a bug in a helper");
            });
            // the pool replaces the dead worker; the next task runs, in this same JVM
            CountDownLatch ran = new CountDownLatch(1);
            AtomicReference<Thread> worker = new AtomicReference<>();
            pool.execute(() -> {
                worker.set(Thread.currentThread());
                ran.countDown();
            });
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(worker.get().getName()).startsWith("inflow-test-helper-");
            assertThat(worker.get().isDaemon()).isTrue();
            assertThat(worker.get().getUncaughtExceptionHandler().getClass().getName())
                    .doesNotContain("FatalExitExceptionHandler");
        } finally {
            pool.shutdownNow();
        }
    }
}
