package io.inflow.gpu.bench;

/**
 * Wall-clock timing shared by the benchmarks: warm up, then repeat a call until enough time has passed.
 *
 * <p>{@code double s = BenchTiming.secondsPerCall(() -> encoder.encode(ids, len), 1.0);}
 */
final class BenchTiming {

    private BenchTiming() {
    }

    /** One timed call. */
    @FunctionalInterface
    interface Work {
        void run() throws Exception;
    }

    /** Seconds per call: warm-up calls for 0.3 s (at least one), then repeated calls for at least {@code minSeconds} (at least 2). */
    static double secondsPerCall(Work w, double minSeconds) throws Exception {
        long warm = System.nanoTime() + 300_000_000L;
        do {
            w.run();
        } while (System.nanoTime() < warm);
        int calls = 0;
        long start = System.nanoTime();
        long elapsed;
        do {
            w.run();
            calls++;
            elapsed = System.nanoTime() - start;
        } while (calls < 2 || elapsed < minSeconds * 1e9);
        return elapsed / 1e9 / calls;
    }
}
