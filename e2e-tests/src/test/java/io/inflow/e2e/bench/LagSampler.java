package io.inflow.e2e.bench;

import io.inflow.jobs.demo.PromSample;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the dashboards' Kafka lag signals say while a run drains its backlog: every second it scrapes Flink's reporter
 * (the Kafka source's {@code pendingRecords}, the consumer's {@code records-lag-max}, the source's per-partition
 * {@code currentOffset} and {@code committedOffset}) and Inflow's endpoint (records the decode step read, records the
 * embed step emitted plus dead letters), so they can be set against the truth: inputs not yet out of the pipeline.
 *
 * <p>{@code try (LagSampler lag = LagSampler.start(pipeline)) { ... lag.describe(); }}
 */
final class LagSampler implements AutoCloseable {

    static final String PENDING = "flink_taskmanager_job_task_operator_pendingRecords";
    static final String LAG_MAX = "flink_taskmanager_job_task_operator_KafkaSourceReader_KafkaConsumer_records_lag_max";
    static final String CURRENT = "flink_taskmanager_job_task_operator_KafkaSourceReader_topic_partition_currentOffset";
    static final String EMIT_LAG = "flink_taskmanager_job_task_operator_currentEmitEventTimeLag";
    static final String COMMITTED =
            "flink_taskmanager_job_task_operator_KafkaSourceReader_topic_partition_committedOffset";

    private final BenchPipeline pipeline;
    private final Thread thread;
    private final List<double[]> samples = new ArrayList<>();
    private volatile boolean running = true;
    private final long t0 = System.currentTimeMillis();

    private final java.util.function.LongSupplier notVisible;

    private LagSampler(BenchPipeline pipeline, java.util.function.LongSupplier notVisible) {
        this.pipeline = pipeline;
        this.notVisible = notVisible;
        this.thread = new Thread(this::run, "bench-lag-sampler");
        this.thread.setDaemon(true);
    }

    /** @param notVisible the truth: inputs whose output is not yet visible downstream */
    static LagSampler start(BenchPipeline pipeline, java.util.function.LongSupplier notVisible) {
        LagSampler s = new LagSampler(pipeline, notVisible);
        s.thread.start();
        return s;
    }

    private void run() {
        while (running) {
            try {
                Thread.sleep(1000);
                double[] s = sample();
                synchronized (this) {
                    samples.add(s);
                }
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                // the job is not up yet (no endpoint): try again
            }
        }
    }

    /**
     * t, pendingRecords, records-lag-max, sum currentOffset, sum committedOffset, decode in, embed out + dlq, max
     * currentEmitEventTimeLag, inputs not yet visible.
     */
    private double[] sample() throws Exception {
        double[] s = new double[9];
        s[0] = (System.currentTimeMillis() - t0) / 1e3;
        s[2] = Double.NaN;
        String body = BenchPipeline.get(pipeline.flinkMetricsUrl());
        for (String line : body.lines().filter(l -> l.startsWith("flink_taskmanager_job_task_operator_")).toList()) {
            PromSample p = PromSample.parse(line);
            switch (p.name()) {
                case PENDING -> s[1] += p.value();
                case LAG_MAX -> s[2] = Double.isNaN(s[2]) ? p.value() : Math.max(s[2], p.value());
                case CURRENT -> s[3] += Math.max(0, p.value());
                case COMMITTED -> s[4] += Math.max(0, p.value());
                case EMIT_LAG -> s[7] = Math.max(s[7], p.value());
                default -> { }
            }
        }
        s[5] = pipeline.inflowMetricAll("inflow_records_in_total", "decode");
        s[6] = pipeline.inflowMetricAll("inflow_records_out_total", "embed")
                + pipeline.inflowMetricAll("inflow_dead_letters_total", null);
        s[8] = notVisible.getAsLong();
        return s;
    }

    /** About ten rows over the run: each signal next to the backlog inside the job. */
    synchronized List<String> describe() {
        List<String> out = new ArrayList<>();
        out.add("Kafka lag signals while the backlog drained (Flink's reporter; 'inside' = decode in - (embed out +"
                + " dead letters) from Inflow's endpoint):");
        out.add(String.format(Locale.ROOT, "  %6s %14s %15s %14s %16s %10s %12s %12s", "t (s)", "pendingRecords",
                "records-lag-max", "currentOffset", "committedOffset", "inside", "emit lag ms", "not visible"));
        int step = Math.max(1, samples.size() / 10);
        for (int i = 0; i < samples.size(); i += step) {
            double[] s = samples.get(i);
            out.add(String.format(Locale.ROOT, "  %6.0f %14.0f %15.1f %14.0f %16.0f %10.0f %12.0f %12.0f", s[0], s[1],
                    s[2], s[3], s[4], s[5] - s[6], s[7], s[8]));
        }
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(5000);
    }
}
