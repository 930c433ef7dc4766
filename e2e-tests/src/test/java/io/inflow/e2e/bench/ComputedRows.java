package io.inflow.e2e.bench;

import io.inflow.operators.metrics.InflowMetrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

import java.util.ArrayList;
import java.util.List;

/**
 * Samples, every 20 ms on its own thread, how many rows an operator of a job running in this JVM has computed
 * ({@code inflow_records_out_total} of one {@code operator} label, e.g. {@code embed} or {@code ml-predict}): the
 * compute rate independent of when exactly-once output becomes visible (a bounded job's last rows may all commit at
 * once at its end, which makes a visible-output rate meaningless for short runs).
 *
 * <p>{@code try (ComputedRows c = ComputedRows.start("ml-predict")) { ...; double r = c.rate(rows); }}
 */
final class ComputedRows implements AutoCloseable {

    private static final long SAMPLE_MS = 20;

    private final String operator;
    private final double base;
    private final List<double[]> timeline = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    private ComputedRows(String operator) {
        this.operator = operator;
        this.base = count(operator);
        this.thread = new Thread(this::run, "bench-computed-rows");
        this.thread.setDaemon(true);
    }

    static ComputedRows start(String operator) {
        ComputedRows c = new ComputedRows(operator);
        c.thread.start();
        return c;
    }

    private void run() {
        while (running) {
            double now = System.nanoTime() / 1e9;
            double rows = count(operator) - base;
            synchronized (this) {
                timeline.add(new double[] {now, rows});
            }
            try {
                Thread.sleep(SAMPLE_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Rows/s between the samples where a tenth and nine tenths of {@code rows} had been computed. */
    synchronized double rate(long rows) {
        double[] from = null;
        double[] to = null;
        for (double[] p : timeline) {
            if (from == null && p[1] >= rows / 10.0) {
                from = p;
            }
            if (to == null && p[1] >= rows * 9 / 10.0) {
                to = p;
            }
        }
        if (from == null || to == null || to[0] <= from[0]) {
            throw new IllegalStateException(operator + ": computed rows did not pass 10% and 90% of " + rows
                    + " in separate samples");
        }
        return (to[1] - from[1]) / (to[0] - from[0]);
    }

    /** {@code inflow_records_out_total} summed over every series of {@code operator}. */
    static double count(String operator) {
        double sum = 0;
        for (MetricSnapshot s : InflowMetrics.REGISTRY.scrape()) {
            if (s instanceof CounterSnapshot c && c.getMetadata().getPrometheusName().equals("inflow_records_out")) {
                for (CounterSnapshot.CounterDataPointSnapshot d : c.getDataPoints()) {
                    if (operator.equals(d.getLabels().get(InflowMetrics.OPERATOR))) {
                        sum += d.getValue();
                    }
                }
            }
        }
        return sum;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(5_000);
    }
}
