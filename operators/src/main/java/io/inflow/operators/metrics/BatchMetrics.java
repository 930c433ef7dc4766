package io.inflow.operators.metrics;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

import java.util.function.IntSupplier;

/**
 * The batching operator's metrics, registered under the operator's group in a sub-group {@code inflow}. With
 * Flink's Prometheus reporter they appear as {@code flink_taskmanager_job_task_operator_inflow_<name>}.
 *
 * <table>
 *   <caption>metrics</caption>
 *   <tr><td>records_in_total</td><td>records packed into batches</td></tr>
 *   <tr><td>records_out_total</td><td>enriched records emitted</td></tr>
 *   <tr><td>truncated_records_total</td><td>texts cut to the tokenizer's limit</td></tr>
 *   <tr><td>batches_total</td><td>batches computed</td></tr>
 *   <tr><td>batch_size_records</td><td>histogram of rows per batch</td></tr>
 *   <tr><td>batch_tokens</td><td>histogram of real (unpadded) tokens per batch</td></tr>
 *   <tr><td>batch_padding_ratio</td><td>gauge: padded / real tokens of the last batch (1.0 = no padding)</td></tr>
 *   <tr><td>batch_wait_ms</td><td>histogram: first row's arrival to the batch's hand-over to compute</td></tr>
 *   <tr><td>compute_time_ms</td><td>histogram: compute time per batch</td></tr>
 *   <tr><td>batches_in_flight</td><td>gauge: batches handed to compute and not yet emitted (queue depth)</td></tr>
 * </table>
 *
 * <p>{@code BatchMetrics m = new BatchMetrics(getMetricGroup(), () -> inFlight);}
 */
public final class BatchMetrics {

    /** Samples kept by each histogram (a sliding window over the latest batches). */
    public static final int HISTOGRAM_WINDOW = 1024;

    public final Counter recordsIn;
    public final Counter recordsOut;
    public final Counter truncated;
    public final Counter batches;
    public final Histogram batchSize;
    public final Histogram batchTokens;
    public final Histogram batchWaitMs;
    public final Histogram computeTimeMs;
    private volatile double paddingRatio = 1.0;

    public BatchMetrics(MetricGroup operatorGroup, IntSupplier inFlight) {
        MetricGroup g = operatorGroup.addGroup("inflow");
        recordsIn = g.counter("records_in_total");
        recordsOut = g.counter("records_out_total");
        truncated = g.counter("truncated_records_total");
        batches = g.counter("batches_total");
        batchSize = g.histogram("batch_size_records", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        batchTokens = g.histogram("batch_tokens", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        batchWaitMs = g.histogram("batch_wait_ms", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        computeTimeMs = g.histogram("compute_time_ms", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        g.gauge("batch_padding_ratio", () -> paddingRatio);
        g.gauge("batches_in_flight", inFlight::getAsInt);
    }

    /** Records a batch handed to compute. */
    public void batchFlushed(int rows, long realTokens, long paddedTokens, long waitMs) {
        batches.inc();
        batchSize.update(rows);
        batchTokens.update(realTokens);
        batchWaitMs.update(waitMs);
        paddingRatio = realTokens == 0 ? 1.0 : (double) paddedTokens / realTokens;
    }
}
