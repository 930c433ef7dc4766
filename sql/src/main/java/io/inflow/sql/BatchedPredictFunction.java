package io.inflow.sql;

import io.inflow.operators.metrics.BatchMetrics;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.operators.metrics.MetricsEndpoint;
import io.inflow.schemas.ErrorKind;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The batching core of every {@code inflow} {@code ML_PREDICT} task, run inside the TaskManager: Flink hands over one
 * row per call; the rows of concurrent calls are gathered into micro-batches ({@link RowBatcher}: {@code max-records}
 * / {@code max-wait}) and computed on the batcher's compute thread, which also opens and closes the task's model
 * (a CUDA context binds to it); each row's future is completed with its answer row.
 *
 * <p>Bad rows never fail the job: a NULL input gets a NULL answer (every output column NULL) at once; a row the task
 * rejects (an image that does not decode, a non-finite output) gets a NULL answer and is counted in
 * {@code inflow_dead_letters_total{operator="ml-predict",reason=<ErrorKind wire name>}}; a batch that throws is
 * bisected down to single rows, and a row that fails alone is counted as {@code compute_failed}. Only errors of the
 * process (out of memory) fail the task. Metrics are the DataStream operators' ({@link BatchMetrics}) with
 * {@code operator="ml-predict"}.
 *
 * <p>A task implements four steps:
 * <pre>{@code
 * final class MyPredictFunction extends BatchedPredictFunction<String, MyModel> {
 *     MyPredictFunction(MySettings s, int batchRows) { super(s, batchRows, 2); }        // 2 output columns
 *     protected MyModel openModel(String name) { return MyModel.open(...); }           // compute thread
 *     protected String version(MyModel m) { return m.version(); }
 *     protected String backend(MyModel m) { return m.backend(); }
 *     protected String input(RowData row) { return row.isNullAt(0) ? null : row.getString(0).toString(); }
 *     protected Answers compute(MyModel m, List<String> texts) { ... }                 // compute thread
 * }
 * }</pre>
 *
 * @param <I> one row's input as the compute takes it (a text, an encoded image)
 * @param <M> the task's model: opened, used and closed on the compute thread
 */
public abstract class BatchedPredictFunction<I, M extends AutoCloseable> extends AsyncPredictFunction {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(BatchedPredictFunction.class);
    /** The {@code operator} label of the metrics of every {@code inflow} predict function. */
    public static final String OPERATOR = "ml-predict";

    /**
     * One batch's answers, one per input row.
     *
     * @param rows the answer row, or null where the row was rejected
     * @param rejected why row {@code r} was rejected (its dead-letter reason), null where it was answered
     * @param realUnits work units of the batch (tokens; image tokens), for {@code inflow_batch_tokens}
     * @param paddedUnits padding units, for {@code inflow_batch_padded_tokens_total}
     * @param truncated inputs cut to a limit, for {@code inflow_truncated_records_total}
     */
    protected record Answers(RowData[] rows, ErrorKind[] rejected, long realUnits, long paddedUnits, int truncated) {
        protected Answers {
            if (rows.length != rejected.length) {
                throw new IllegalArgumentException(rows.length + " answers but " + rejected.length + " reasons");
            }
            for (int r = 0; r < rows.length; r++) {
                if ((rows[r] == null) == (rejected[r] == null)) {
                    throw new IllegalArgumentException("row " + r + " needs an answer or a rejection reason, not "
                            + (rows[r] == null ? "neither" : "both"));
                }
            }
        }
    }

    /** A row waiting for its answer. */
    private record Pending<I>(I input, CompletableFuture<Collection<RowData>> answer) {
    }

    private final ModelSettings settings;
    private final int batchRows;
    private final int outputArity;
    private transient RowBatcher<Pending<I>> batcher;
    private transient M model;
    private transient BatchMetrics metrics;
    private transient Map<ErrorKind, CounterDataPoint> deadLetters;
    private transient MetricsEndpoint.Lease endpoint;

    /**
     * @param batchRows rows per micro-batch: {@code max-records}, lowered to the rows Flink keeps in flight when
     *     that is smaller (a batch waiting for rows Flink cannot send would only wait out {@code max-wait})
     * @param outputArity columns of the model's output (of the NULL answer)
     */
    protected BatchedPredictFunction(ModelSettings settings, int batchRows, int outputArity) {
        this.settings = settings;
        this.batchRows = batchRows;
        this.outputArity = outputArity;
    }

    /** Opens the task's model (compute thread). */
    protected abstract M openModel(String name) throws Exception;

    /** The metrics' {@code version} label of the opened model. */
    protected abstract String version(M model);

    /** The metrics' {@code backend} label of the opened model ({@code cpu-fast}, {@code cuda}). */
    protected abstract String backend(M model);

    /** Row {@code row}'s input, or null for a NULL input (answered NULL at once). Task thread: keep it cheap. */
    protected abstract I input(RowData row);

    /** Computes one batch of inputs (none null) on the compute thread; throws to have the batch bisected. */
    protected abstract Answers compute(M model, List<I> inputs) throws Exception;

    /** Rows per micro-batch. */
    public int batchRows() {
        return batchRows;
    }

    /** The settings this function runs. */
    public ModelSettings settings() {
        return settings;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        open(OPERATOR + "-" + settings.modelName() + "-" + context.getTaskInfo().getIndexOfThisSubtask());
    }

    /** Opens the function under {@code name} (thread and Arrow allocator names); tests call it without a task. */
    void open(String name) throws Exception {
        batcher = new RowBatcher<>("inflow-" + name, batchRows, settings.maxWait(), this::computeBatch);
        model = batcher.onComputeThread(() -> openModel(name));
        metrics = new BatchMetrics(settings.job(), OPERATOR, settings.modality(), settings.modelName(),
                version(model), backend(model));
        deadLetters = new EnumMap<>(ErrorKind.class);
        endpoint = MetricsEndpoint.acquire(MetricsEndpoint.Settings.parse(settings.metricsEnabled(),
                settings.metricsPort(), settings.metricsHost()));
        LOG.info("ML_PREDICT {} ({}) open: {} rows per batch, max wait {}, backend {}", name, settings.task(),
                batchRows, settings.maxWait(), backend(model));
    }

    @Override
    public final CompletableFuture<Collection<RowData>> asyncPredict(RowData row) {
        metrics.recordsIn.inc();
        CompletableFuture<Collection<RowData>> answer = new CompletableFuture<>();
        I input = input(row);
        if (input == null) {
            answer(answer, null); // documented policy: NULL input, NULL output
            return answer;
        }
        batcher.add(new Pending<>(input, answer));
        return answer;
    }

    /** Computes one batch and answers each of its rows (compute thread). */
    private void computeBatch(List<Pending<I>> rows, long waitNanos) {
        long t0 = System.nanoTime();
        List<Answers> results = new ArrayList<>(1);
        try {
            computeBisecting(rows, results);
        } catch (Throwable e) {
            // only errors of the process get here (VirtualMachineError): fail the rows, Flink restarts the task
            for (Pending<I> p : rows) {
                p.answer().completeExceptionally(e);
            }
            throw e;
        } finally {
            long real = 0;
            long padded = 0;
            for (Answers a : results) {
                real += a.realUnits();
                padded += a.paddedUnits();
            }
            metrics.batchFlushed(rows.size(), real, padded, waitNanos / 1_000_000, 0);
            metrics.batchDone(System.nanoTime() - t0);
        }
    }

    /**
     * Computes {@code rows} as one batch; when the batch throws, computes each half on its own, down to single rows,
     * so one poison row costs its own answer only (NULL, counted as {@code compute_failed}).
     */
    private void computeBisecting(List<Pending<I>> rows, List<Answers> results) {
        Answers answers;
        try {
            List<I> inputs = new ArrayList<>(rows.size());
            for (Pending<I> p : rows) {
                inputs.add(p.input());
            }
            answers = compute(model, inputs);
            if (answers.rows().length != rows.size()) {
                throw new IllegalStateException(settings.task() + " answered " + answers.rows().length
                        + " rows for a batch of " + rows.size());
            }
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            if (rows.size() == 1) {
                LOG.warn("ML_PREDICT {}: a row failed on its own; its answer is NULL", settings.task(), e);
                deadLetter(ErrorKind.COMPUTE_FAILED);
                answer(rows.get(0).answer(), null);
                return;
            }
            LOG.warn("ML_PREDICT {}: a batch of {} rows failed; bisecting it", settings.task(), rows.size(), e);
            int half = rows.size() / 2;
            computeBisecting(rows.subList(0, half), results);
            computeBisecting(rows.subList(half, rows.size()), results);
            return;
        }
        results.add(answers);
        metrics.truncated.inc(answers.truncated());
        for (int r = 0; r < rows.size(); r++) {
            if (answers.rejected()[r] != null) {
                deadLetter(answers.rejected()[r]);
            }
            answer(rows.get(r).answer(), answers.rows()[r]);
        }
    }

    private void deadLetter(ErrorKind kind) {
        deadLetters.computeIfAbsent(kind, k -> InflowMetrics.DEAD_LETTERS.labelValues(settings.job(), OPERATOR,
                settings.modality(), k.wireName())).inc();
    }

    private void answer(CompletableFuture<Collection<RowData>> answer, RowData row) {
        metrics.recordsOut.inc();
        answer.complete(List.of(row == null ? new GenericRowData(outputArity) : row));
    }

    @Override
    public void close() throws Exception {
        try {
            if (batcher != null) {
                if (model != null) {
                    batcher.onComputeThread(() -> {
                        model.close();
                        return null;
                    });
                }
                batcher.close();
            }
        } finally {
            batcher = null;
            model = null;
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
