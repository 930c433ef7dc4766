package io.inflow.sql;

import io.inflow.operators.metrics.BatchMetrics;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.operators.metrics.MetricsEndpoint;
import io.inflow.schemas.ErrorKind;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code ML_PREDICT} for a text-embedding model, run inside the TaskManager: Flink hands over one row per call; the
 * rows of concurrent calls are gathered into micro-batches ({@link RowBatcher}: {@code max-records} / {@code max-wait})
 * and embedded by the DataStream pipeline's compute ({@link TextEmbedder}); each row's future is completed with its
 * {@code ARRAY<FLOAT>}.
 *
 * <p>Bad rows never fail the job: a NULL text gets a NULL embedding at once; a text whose vector is not finite, or
 * that fails alone after its batch failed and was bisected, gets a NULL embedding and is counted in
 * {@code inflow_dead_letters_total{operator="ml-predict"}}. Texts over {@code max-tokens} are truncated
 * ({@code inflow_truncated_records_total}). Only errors of the process (out of memory) fail the task.
 *
 * <p>Created by {@link InflowModelProvider}: {@code new EmbeddingPredictFunction(settings, 64)}.
 */
public final class EmbeddingPredictFunction extends AsyncPredictFunction {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddingPredictFunction.class);
    /** The {@code operator} label of this function's metrics. */
    public static final String OPERATOR = "ml-predict";

    private final EmbeddingModelSettings settings;
    private final int batchRows;
    private transient RowBatcher<Pending> batcher;
    private transient TextEmbedder embedder;
    private transient BatchMetrics metrics;
    private transient CounterDataPoint nonFinite;
    private transient CounterDataPoint computeFailed;
    private transient MetricsEndpoint.Lease endpoint;

    /** A row waiting for its embedding. */
    private record Pending(String text, CompletableFuture<Collection<RowData>> answer) {
    }

    /**
     * @param batchRows rows per micro-batch: {@code max-records}, lowered to the rows Flink keeps in flight when
     *     that is smaller (a batch waiting for rows Flink cannot send would only wait out {@code max-wait})
     */
    public EmbeddingPredictFunction(EmbeddingModelSettings settings, int batchRows) {
        this.settings = settings;
        this.batchRows = batchRows;
    }

    /** Rows per micro-batch. */
    public int batchRows() {
        return batchRows;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        String name = OPERATOR + "-" + settings.spec().model().modelName() + "-"
                + context.getTaskInfo().getIndexOfThisSubtask();
        batcher = new RowBatcher<>("inflow-" + name, batchRows, settings.maxWait(), this::computeBatch);
        embedder = batcher.onComputeThread(() -> TextEmbedder.open(settings, name));
        String model = settings.spec().model().modelName();
        metrics = new BatchMetrics(settings.job(), OPERATOR, "text", model, embedder.version(), embedder.backend());
        nonFinite = InflowMetrics.DEAD_LETTERS.labelValues(settings.job(), OPERATOR, "text",
                ErrorKind.NON_FINITE_OUTPUT.wireName());
        computeFailed = InflowMetrics.DEAD_LETTERS.labelValues(settings.job(), OPERATOR, "text",
                ErrorKind.COMPUTE_FAILED.wireName());
        endpoint = MetricsEndpoint.acquire(MetricsEndpoint.Settings.parse(settings.metricsEnabled(),
                settings.metricsPort(), settings.metricsHost()));
        LOG.info("ML_PREDICT {} open: {} rows per batch, max wait {}, backend {}", name, batchRows,
                settings.maxWait(), embedder.backend());
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData input) {
        metrics.recordsIn.inc();
        CompletableFuture<Collection<RowData>> answer = new CompletableFuture<>();
        if (input.isNullAt(0)) {
            answer(answer, null); // documented policy: NULL text, NULL embedding
            return answer;
        }
        StringData text = input.getString(0);
        batcher.add(new Pending(text.toString(), answer));
        return answer;
    }

    /** Computes one batch and answers each of its rows (compute thread). */
    private void computeBatch(List<Pending> rows, long waitNanos) {
        long t0 = System.nanoTime();
        List<TextEmbedder.Result> results = new ArrayList<>(1);
        try {
            embedBisecting(rows, results);
        } catch (Throwable e) {
            // only errors of the process get here (VirtualMachineError): fail the rows, Flink restarts the task
            for (Pending p : rows) {
                p.answer().completeExceptionally(e);
            }
            throw e;
        } finally {
            long real = 0;
            long padded = 0;
            for (TextEmbedder.Result r : results) {
                real += r.realTokens();
                padded += r.paddedTokens();
            }
            metrics.batchFlushed(rows.size(), real, padded, waitNanos / 1_000_000, 0);
            metrics.batchDone(System.nanoTime() - t0);
        }
    }

    /**
     * Embeds {@code rows} as one batch; when the batch throws, embeds each half on its own, down to single rows, so
     * one poison text costs its own embedding only (NULL, counted as {@code compute_failed}).
     */
    private void embedBisecting(List<Pending> rows, List<TextEmbedder.Result> results) {
        TextEmbedder.Result result;
        try {
            List<String> texts = new ArrayList<>(rows.size());
            for (Pending p : rows) {
                texts.add(p.text());
            }
            result = embedder.embed(texts);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            if (rows.size() == 1) {
                LOG.warn("ML_PREDICT: embedding a text of {} chars failed on its own; its embedding is NULL",
                        rows.get(0).text().length(), e);
                computeFailed.inc();
                answer(rows.get(0).answer(), null);
                return;
            }
            LOG.warn("ML_PREDICT: a batch of {} rows failed; bisecting it", rows.size(), e);
            int half = rows.size() / 2;
            embedBisecting(rows.subList(0, half), results);
            embedBisecting(rows.subList(half, rows.size()), results);
            return;
        }
        results.add(result);
        metrics.truncated.inc(result.truncated());
        for (int r = 0; r < rows.size(); r++) {
            float[] v = result.embeddings()[r];
            if (v == null) {
                nonFinite.inc();
            }
            answer(rows.get(r).answer(), v);
        }
    }

    private void answer(CompletableFuture<Collection<RowData>> answer, float[] embedding) {
        metrics.recordsOut.inc();
        answer.complete(List.of(GenericRowData.of(embedding == null ? null : new GenericArrayData(embedding))));
    }

    @Override
    public void close() throws Exception {
        try {
            if (batcher != null) {
                if (embedder != null) {
                    batcher.onComputeThread(() -> {
                        embedder.close();
                        return null;
                    });
                }
                batcher.close();
            }
        } finally {
            batcher = null;
            embedder = null;
            if (metrics != null) {
                metrics.close();
                metrics = null;
            }
            if (endpoint != null) {
                endpoint.close();
                endpoint = null;
            }
        }
    }
}
