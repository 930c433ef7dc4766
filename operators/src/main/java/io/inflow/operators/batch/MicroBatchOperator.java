package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;
import io.inflow.operators.metrics.BatchMetrics;
import io.inflow.operators.metrics.MetricsEndpoint;
import io.inflow.operators.metrics.MetricsOptions;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ModelRef;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.concurrent.ExecutorThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The batching core shared by every modality: packs input records into pooled Arrow micro-batches (one open batch
 * per bucket), computes each full batch off the task thread and emits one {@link EnrichedEvent} per input, in the
 * batch's row order. Subclasses say what a bucket is, how a record goes into an Arrow batch, how a batch is computed
 * and how a row becomes an event ({@code TextEmbedOperator}: token-length buckets of {@code TokenBatch}es;
 * {@code ImageEmbedOperator}: one bucket of {@code DecodedImageBatch}es).
 *
 * <p>How a record travels:
 * <ol>
 *   <li>{@code processElement} (task thread) picks the record's bucket and appends it to that bucket's open batch.
 *       A batch is handed to compute when it is full ({@link #isFull}), when its first row has waited
 *       {@code maxWait} (processing-time timer), before a checkpoint barrier and at end of input.</li>
 *   <li>Compute runs on the operator's own compute thread. At most {@code maxInFlight} batches are out at once;
 *       beyond that the task thread yields to its mailbox (back pressure), it never blocks in compute.</li>
 *   <li>The result comes back through the task's mailbox, where the enriched events are emitted and the batch is
 *       cleared and returned to its bucket's pool.</li>
 * </ol>
 *
 * <p>Checkpoints: {@link #prepareSnapshotPreBarrier} flushes every open batch and waits until nothing is in flight,
 * so all outputs of records before the barrier are emitted before it and the operator keeps no state. Together with
 * Kafka's transactional sink this gives exactly-once output. A compute failure fails the task (Flink restarts from
 * the last checkpoint): record-level problems are dead-lettered before a record reaches a batch.
 *
 * <p>A subclass implements the hooks below and is created by a factory that passes the mailbox:
 * <pre>{@code
 * final class MyOperator extends MicroBatchOperator<MyInput, MyArrowBatch, MyResult> { ... }
 * }</pre>
 *
 * @param <IN> input record
 * @param <B> Arrow batch
 * @param <R> what compute returns for a batch
 */
public abstract class MicroBatchOperator<IN, B extends RowBatch, R> extends AbstractStreamOperator<EnrichedEvent>
        implements OneInputStreamOperator<IN, EnrichedEvent>, BoundedOneInput {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MicroBatchOperator.class);

    private final Duration maxWait;
    private final int maxInFlight;
    private final String metricsOperator;
    private final String modality;
    private final transient MailboxExecutor mailbox;

    private transient BufferAllocator allocator;
    private transient OpenBatch<IN, B>[] open;
    private transient ArrayDeque<OpenBatch<IN, B>>[] pool;
    private transient ExecutorService computeThread;
    private transient BatchMetrics metrics;
    private transient MetricsEndpoint.Lease endpoint;
    private transient ModelRef model;
    private transient int inFlight;
    private transient long timerAt;

    /**
     * @param metricsOperator the {@code operator} label of its metrics
     * @param modality the {@code modality} label of its metrics ({@code text}, {@code image})
     */
    protected MicroBatchOperator(StreamOperatorParameters<EnrichedEvent> parameters, Duration maxWait,
            int maxInFlight, String metricsOperator, String modality) {
        super(parameters);
        this.maxWait = maxWait;
        this.maxInFlight = maxInFlight;
        this.metricsOperator = metricsOperator;
        this.modality = modality;
        this.mailbox = parameters.getMailboxExecutor();
    }

    // ---- hooks ----------------------------------------------------------------------------------------

    /** Number of buckets (batches open at once); called once at open. */
    protected abstract int bucketCount();

    /** The bucket a record goes to. */
    protected abstract int bucketOf(IN input);

    /** A new, empty Arrow batch for {@code bucket}. */
    protected abstract B newBatch(BufferAllocator allocator, int bucket);

    /** Appends the record to the Arrow batch (task thread). */
    protected abstract void append(B batch, IN input);

    /** Whether the batch must be handed to compute now: by default when its rows are full (images add a byte limit). */
    protected boolean isFull(B batch) {
        return batch.isFull();
    }

    /** Real and padded work units of a batch for the metrics (tokens for text, patch tokens for images). */
    protected abstract long[] units(B batch);

    /** A short description of a batch's shape for error messages, e.g. {@code 64 rows x 128 tokens}. */
    protected abstract String describe(B batch);

    /** Loads models; runs once on the compute thread. */
    protected abstract void openCompute() throws Exception;

    /** The model stamped on every event; valid after {@link #openCompute()}. */
    protected abstract ModelRef model();

    /** The backend label of the metrics ({@code cpu-fast}, {@code cuda}); valid after {@link #openCompute()}. */
    protected abstract String backend();

    /** Computes one batch on the compute thread. The Arrow batch is valid only during the call. */
    protected abstract R compute(B batch) throws Exception;

    /** Rows in a result; must equal the batch's rows. */
    protected abstract int resultRows(R result);

    /** The enriched event of one row (task thread). */
    protected abstract EnrichedEvent enrich(IN input, B batch, int row, R result, ModelRef model, long nowMs);

    /** Frees what {@link #openCompute()} took. */
    protected abstract void closeCompute() throws Exception;

    /** Called for every record before it is batched (metrics such as truncation). */
    protected void onRecord(IN input, BatchMetrics metrics) {
    }

    // ---- operator -------------------------------------------------------------------------------------

    @Override
    @SuppressWarnings("unchecked")
    public void open() throws Exception {
        super.open();
        allocator = new RootAllocator();
        int buckets = bucketCount();
        open = new OpenBatch[buckets];
        pool = new ArrayDeque[buckets];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = new ArrayDeque<>();
        }
        String name = getOperatorName() + "-compute-" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        computeThread = Executors.newSingleThreadExecutor(new ExecutorThreadFactory(name));
        // open on the compute thread: models may bind thread-affine resources (a CUDA context)
        computeThread.submit(() -> {
            openCompute();
            return null;
        }).get();
        model = model();
        metrics = new BatchMetrics(getRuntimeContext().getJobInfo().getJobName(), metricsOperator, modality,
                model.name(), model.version(), backend());
        endpoint = MetricsEndpoint.acquire(MetricsOptions.settings(
                getContainingTask().getEnvironment().getTaskManagerInfo().getConfiguration(),
                getContainingTask().getJobConfiguration()));
        timerAt = Long.MAX_VALUE;
        LOG.info("{} opened: model {} on {}, {} bucket(s), max wait {}, max in flight {}", getOperatorName(), model,
                backend(), buckets, maxWait, maxInFlight);
    }

    @Override
    public void processElement(StreamRecord<IN> element) throws Exception {
        IN input = element.getValue();
        int bucket = bucketOf(input);
        OpenBatch<IN, B> batch = open[bucket];
        if (batch == null) {
            batch = takeBatch(bucket);
            open[bucket] = batch;
        }
        long now = getProcessingTimeService().getCurrentProcessingTime();
        append(batch.arrow(), input);
        batch.add(input, element.hasTimestamp() ? element.getTimestamp() : Long.MIN_VALUE, now);
        metrics.recordsIn.inc();
        onRecord(input, metrics);
        if (isFull(batch.arrow())) {
            flush(bucket);
        } else if (batch.size() == 1) {
            scheduleTimer(now + maxWait.toMillis());
        }
    }

    /** A cleared batch for the bucket: from its pool, or newly allocated (at most open + in-flight exist). */
    private OpenBatch<IN, B> takeBatch(int bucket) throws InterruptedException {
        while (inFlight >= maxInFlight) {
            mailbox.yield();
        }
        OpenBatch<IN, B> batch = pool[bucket].poll();
        if (batch == null) {
            batch = new OpenBatch<>(bucket, newBatch(allocator, bucket));
        }
        return batch;
    }

    private void scheduleTimer(long at) {
        if (at < timerAt) {
            timerAt = at;
            getProcessingTimeService().registerTimer(at, this::onTimer);
        }
    }

    private void onTimer(long time) throws Exception {
        if (time != timerAt) {
            return; // superseded by an earlier timer
        }
        timerAt = Long.MAX_VALUE;
        long next = Long.MAX_VALUE;
        long wait = maxWait.toMillis();
        for (int b = 0; b < open.length; b++) {
            OpenBatch<IN, B> batch = open[b];
            if (batch == null || batch.isEmpty()) {
                continue;
            }
            if (batch.openedAtMs() + wait <= time) {
                flush(b);
            } else {
                next = Math.min(next, batch.openedAtMs() + wait);
            }
        }
        if (next != Long.MAX_VALUE) {
            scheduleTimer(next);
        }
    }

    /**
     * Hands the bucket's open batch to the compute thread, first waiting (yielding to the mailbox, where finished
     * batches are emitted) until fewer than {@code maxInFlight} batches are computing: a checkpoint or a timer that
     * flushes several buckets at once stays within the bound.
     */
    private void flush(int bucket) throws InterruptedException {
        OpenBatch<IN, B> batch = open[bucket];
        open[bucket] = null;
        if (batch == null || batch.isEmpty()) {
            if (batch != null) {
                pool[bucket].push(batch);
            }
            return;
        }
        while (inFlight >= maxInFlight) {
            mailbox.yield();
        }
        B arrow = batch.arrow();
        long now = getProcessingTimeService().getCurrentProcessingTime();
        long[] units = units(arrow);
        metrics.batchFlushed(batch.size(), units[0], units[1], now - batch.openedAtMs());
        inFlight++;
        computeThread.execute(() -> {
            long start = System.nanoTime();
            R result;
            try {
                result = compute(arrow);
            } catch (Throwable t) {
                String shape = describe(arrow);
                mailbox.execute(() -> {
                    recycle(batch, -1);
                    throw new IOException("compute failed on a batch of " + shape + " (model " + model + ")", t);
                }, "compute failure");
                return;
            }
            long nanos = System.nanoTime() - start;
            mailbox.execute(() -> emit(batch, result, nanos), "emit batch");
        });
    }

    private void emit(OpenBatch<IN, B> batch, R result, long computeNanos) {
        B arrow = batch.arrow();
        if (resultRows(result) != batch.size()) {
            throw new IllegalStateException("compute returned " + resultRows(result) + " rows for a batch of "
                    + batch.size());
        }
        long now = getProcessingTimeService().getCurrentProcessingTime();
        StreamRecord<EnrichedEvent> reuse = new StreamRecord<>(null);
        for (int row = 0; row < batch.size(); row++) {
            EnrichedEvent event = enrich(batch.input(row), arrow, row, result, model, now);
            long ts = batch.timestamp(row);
            if (ts == Long.MIN_VALUE) {
                reuse.eraseTimestamp();
                output.collect(reuse.replace(event));
            } else {
                output.collect(reuse.replace(event, ts));
            }
        }
        metrics.recordsOut.inc(batch.size());
        recycle(batch, computeNanos);
    }

    /** Returns a batch that left compute ({@code computeNanos} < 0: it failed) to its bucket's pool. */
    private void recycle(OpenBatch<IN, B> batch, long computeNanos) {
        metrics.batchDone(computeNanos);
        batch.clear();
        pool[batch.bucket()].push(batch);
        inFlight--;
    }

    /** Flushes every open batch and waits until all computed batches are emitted. */
    private void flushAndDrain() throws InterruptedException {
        for (int b = 0; b < open.length; b++) {
            flush(b);
        }
        while (inFlight > 0) {
            mailbox.yield();
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flushAndDrain();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void endInput() throws Exception {
        flushAndDrain();
    }

    @Override
    public void finish() throws Exception {
        flushAndDrain();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            if (metrics != null) {
                metrics.close();
            }
            if (endpoint != null) {
                endpoint.close();
            }
            if (computeThread != null) {
                computeThread.shutdownNow();
                if (!computeThread.awaitTermination(30, TimeUnit.SECONDS)) {
                    LOG.warn("compute thread of {} did not stop within 30 s", getOperatorName());
                }
                closeCompute();
            }
            if (open != null) {
                for (OpenBatch<IN, B> b : open) {
                    if (b != null) {
                        b.arrow().close();
                    }
                }
                for (ArrayDeque<OpenBatch<IN, B>> p : pool) {
                    for (OpenBatch<IN, B> b : p) {
                        b.arrow().close();
                    }
                }
            }
            if (allocator != null) {
                allocator.close(); // throws if an Arrow buffer leaked
            }
        } finally {
            super.close();
        }
    }
}
