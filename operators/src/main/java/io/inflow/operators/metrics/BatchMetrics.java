package io.inflow.operators.metrics;

import io.inflow.operators.metrics.InflowMetrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;

/**
 * The batching operator's metrics: its series of {@link InflowMetrics}, bound to its labels once at open.
 *
 * <table>
 *   <caption>metrics (labels job, operator, modality, model; compute and queue also backend)</caption>
 *   <tr><td>inflow_records_in_total</td><td>records packed into batches</td></tr>
 *   <tr><td>inflow_records_out_total</td><td>enriched records emitted</td></tr>
 *   <tr><td>inflow_truncated_records_total</td><td>texts cut to the tokenizer's limit</td></tr>
 *   <tr><td>inflow_batch_size_records</td><td>histogram of rows per batch ({@code _count}: batches)</td></tr>
 *   <tr><td>inflow_batch_tokens</td><td>histogram of real (unpadded) tokens per batch</td></tr>
 *   <tr><td>inflow_batch_padded_tokens_total</td><td>token slots computed, padding included</td></tr>
 *   <tr><td>inflow_batch_wait_seconds</td><td>histogram: first row's arrival to the batch being ready for compute (full, or max-wait reached)</td></tr>
 *   <tr><td>inflow_batch_queue_seconds</td><td>histogram: a ready batch's wait for a free compute slot</td></tr>
 *   <tr><td>inflow_compute_seconds</td><td>histogram: compute time per batch</td></tr>
 *   <tr><td>inflow_batches_in_flight</td><td>gauge: batches handed to compute and not yet emitted</td></tr>
 *   <tr><td>inflow_model_info</td><td>1 while the operator runs; labels model, version, backend</td></tr>
 * </table>
 *
 * <p>{@code BatchMetrics m = new BatchMetrics(jobName, "embed", "text", model, version, backend);}
 */
public final class BatchMetrics implements AutoCloseable {

    public final CounterDataPoint recordsIn;
    public final CounterDataPoint recordsOut;
    public final CounterDataPoint truncated;
    private final CounterDataPoint paddedTokens;
    private final DistributionDataPoint batchSize;
    private final DistributionDataPoint batchTokens;
    private final DistributionDataPoint batchWait;
    private final DistributionDataPoint batchQueue;
    private final DistributionDataPoint compute;
    private final GaugeDataPoint inFlight;
    private final String[] modelInfo;
    private int inFlightHere;

    public BatchMetrics(String job, String operator, String modality, String model, String version,
            String backend) {
        recordsIn = InflowMetrics.RECORDS_IN.labelValues(job, operator, modality, model);
        recordsOut = InflowMetrics.RECORDS_OUT.labelValues(job, operator, modality, model);
        truncated = InflowMetrics.TRUNCATED.labelValues(job, operator, modality, model);
        paddedTokens = InflowMetrics.PADDED_TOKENS.labelValues(job, operator, modality, model);
        batchSize = InflowMetrics.BATCH_SIZE.labelValues(job, operator, modality, model);
        batchTokens = InflowMetrics.BATCH_TOKENS.labelValues(job, operator, modality, model);
        batchWait = InflowMetrics.BATCH_WAIT.labelValues(job, operator, modality, model);
        batchQueue = InflowMetrics.BATCH_QUEUE.labelValues(job, operator, modality, model);
        compute = InflowMetrics.COMPUTE.labelValues(job, operator, modality, model, backend);
        inFlight = InflowMetrics.BATCHES_IN_FLIGHT.labelValues(job, operator, modality, model, backend);
        modelInfo = new String[] {job, operator, model, version, backend};
        InflowMetrics.modelStarted(modelInfo);
    }

    /** Records a batch handed to compute (task thread). */
    public void batchFlushed(int rows, long realTokens, long paddedTokens, long waitMs, long queueMs) {
        batchSize.observe(rows);
        batchTokens.observe(realTokens);
        this.paddedTokens.inc(paddedTokens);
        batchWait.observe(waitMs / 1e3);
        batchQueue.observe(queueMs / 1e3);
        inFlightHere++;
        inFlight.inc();
    }

    /** Records a batch that left compute, emitted or failed (task thread). */
    public void batchDone(long computeNanos) {
        if (computeNanos >= 0) {
            compute.observe(computeNanos / 1e9);
        }
        inFlightHere--;
        inFlight.dec();
    }

    /** Takes this operator's batches out of the shared in-flight gauge and its model out of the model info. */
    @Override
    public void close() {
        inFlight.inc(-inFlightHere);
        inFlightHere = 0;
        InflowMetrics.modelStopped(modelInfo);
    }
}
