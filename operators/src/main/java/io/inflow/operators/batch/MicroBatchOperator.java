package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.metrics.BatchMetrics;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.operators.metrics.MetricsEndpoint;
import io.inflow.operators.metrics.MetricsOptions;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.runtime.ArrowMemory;
import io.inflow.operators.runtime.ArrowMemoryOptions;
import io.inflow.operators.runtime.HelperThreads;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The batching core shared by every modality: packs input records into pooled Arrow micro-batches (one open batch
 * per bucket), computes each full batch off the task thread and emits, per input in the batch's row order, its
 * encoded output record or its dead letter (side output {@link DeadLetters#TAG}). Subclasses say what a bucket is,
 * how a record goes into an Arrow batch, how a batch is computed and how a row becomes an event
 * ({@code TextEmbedOperator}: token-length buckets of {@code TokenBatch}es; {@code ImageEmbedOperator}: one bucket of
 * {@code DecodedImageBatch}es).
 *
 * <p>How a record travels:
 * <ol>
 *   <li>{@code processElement} (task thread): a record already rejected upstream ({@link #rejected}) goes straight
 *       to the dead letters; any other is appended to its bucket's open batch. A batch is handed to compute when it
 *       is full ({@link #isFull}), when its first row has waited {@code maxWait} (processing-time timer), before a
 *       checkpoint barrier and at end of input.</li>
 *   <li>Compute runs on the operator's own compute thread ({@link BisectingRunner}): the model, then per row the
 *       finiteness check, the enriched event and its encoding with the sink's size check. A batch that fails is
 *       bisected down to the failing rows, which are dead-lettered; the other rows are emitted normally, and the job
 *       does not restart. At most {@code maxInFlight} batches are out at once; beyond that the task thread yields to
 *       its mailbox (back pressure), it never blocks in compute.</li>
 *   <li>The outcomes come back through the task's mailbox, where they are emitted and the batch is cleared and
 *       returned to its bucket's pool (also when emitting fails).</li>
 * </ol>
 *
 * <p>Checkpoints: {@link #prepareSnapshotPreBarrier} flushes every open batch and waits until nothing is in flight,
 * so all outputs of records before the barrier are emitted before it and the operator keeps no state. Together with
 * Kafka's transactional sink this gives exactly-once output.
 *
 * <p>Memory: batches are allocated from this operator's child of the TaskManager's one bounded Arrow root
 * ({@link ArrowMemory}, {@code inflow.memory.arrow-max-bytes}). Every batch it ever allocated is freed in
 * {@link #close()}, also after a failure or a cancellation with batches open, computing or waiting in the mailbox;
 * the helper thread never ends the TaskManager JVM ({@link HelperThreads}).
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
public abstract class MicroBatchOperator<IN, B extends RowBatch, R> extends AbstractStreamOperator<EncodedRecord>
        implements OneInputStreamOperator<IN, EncodedRecord>, BoundedOneInput {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MicroBatchOperator.class);
    /** How long {@link #close()} waits for the compute thread to finish the batch it is on. */
    static final Duration COMPUTE_STOP_WAIT = Duration.ofSeconds(30);

    private final Duration maxWait;
    private final int maxInFlight;
    private final String metricsOperator;
    private final String modality;
    private final OutputEncoder encoder;
    private final transient MailboxExecutor mailbox;

    private transient ArrowMemory.Child memory;
    private transient List<B> allocated;
    private transient OpenBatch<IN, B>[] open;
    private transient ArrayDeque<OpenBatch<IN, B>>[] pool;
    private transient ExecutorService computeThread;
    private transient BisectingRunner<IN, B, R> runner;
    private transient BatchMetrics metrics;
    private transient Map<ErrorKind, CounterDataPoint> deadLetterCounters;
    private transient MetricsEndpoint.Lease endpoint;
    private transient ModelRef model;
    private transient int inFlight;
    private transient long timerAt;

    /**
     * @param metricsOperator the {@code operator} label of its metrics
     * @param modality the {@code modality} label of its metrics ({@code text}, {@code image})
     * @param encoder encodes enriched events and checks them against the sink's maximum request size
     */
    protected MicroBatchOperator(StreamOperatorParameters<EncodedRecord> parameters, Duration maxWait,
            int maxInFlight, String metricsOperator, String modality, OutputEncoder encoder) {
        super(parameters);
        this.maxWait = maxWait;
        this.maxInFlight = maxInFlight;
        this.metricsOperator = metricsOperator;
        this.modality = modality;
        this.encoder = encoder;
        this.mailbox = parameters.getMailboxExecutor();
    }

    // ---- hooks ----------------------------------------------------------------------------------------

    /** Number of buckets (batches open at once); called once at open. */
    protected abstract int bucketCount();

    /** The bucket a record goes to. */
    protected abstract int bucketOf(IN input);

    /** A new, empty Arrow batch for {@code bucket}. */
    protected abstract B newBatch(BufferAllocator allocator, int bucket);

    /** Appends the record to the Arrow batch (task thread, or the compute thread for a bisected half). */
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

    /** Whether every number of row {@code row} of the result is finite (compute thread). */
    protected abstract boolean finite(R result, int row);

    /** The enriched event of one row (compute thread, while the Arrow batch is valid). */
    protected abstract EnrichedEvent enrich(IN input, B batch, int row, R result, ModelRef model, long nowMs);

    /** The input's original Kafka record: what its dead letter carries. */
    protected abstract RawRecord raw(IN input);

    /** Frees what {@link #openCompute()} took. */
    protected abstract void closeCompute() throws Exception;

    /** Called for every record before it is batched (metrics such as truncation). */
    protected void onRecord(IN input, BatchMetrics metrics) {
    }

    /**
     * The dead letter of a record an earlier step already gave up on (e.g. the tokenizer threw on it), or null for a
     * record to batch. Such a record never enters a batch.
     */
    protected DeadLetterRecord rejected(IN input, long nowMs) {
        return null;
    }

    // ---- operator -------------------------------------------------------------------------------------

    @Override
    @SuppressWarnings("unchecked")
    public void open() throws Exception {
        super.open();
        Configuration tmConfig = getContainingTask().getEnvironment().getTaskManagerInfo().getConfiguration();
        String name = getOperatorName() + "-" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        memory = ArrowMemory.child(name, ArrowMemoryOptions.maxBytes(tmConfig,
                getContainingTask().getJobConfiguration()));
        allocated = new ArrayList<>();
        int buckets = bucketCount();
        open = new OpenBatch[buckets];
        pool = new ArrayDeque[buckets];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = new ArrayDeque<>();
        }
        computeThread = Executors.newSingleThreadExecutor(HelperThreads.factory(name + "-compute"));
        runner = new BisectingRunner<>(new Hooks(), encoder, name);
        // open on the compute thread: models may bind thread-affine resources (a CUDA context)
        computeThread.submit(() -> {
            openCompute();
            return null;
        }).get();
        model = model();
        String job = getRuntimeContext().getJobInfo().getJobName();
        metrics = new BatchMetrics(job, metricsOperator, modality, model.name(), model.version(), backend());
        deadLetterCounters = new EnumMap<>(ErrorKind.class);
        for (ErrorKind kind : ErrorKind.values()) {
            deadLetterCounters.put(kind, InflowMetrics.DEAD_LETTERS.labelValues(job, metricsOperator, modality,
                    kind.wireName()));
        }
        endpoint = MetricsEndpoint.acquire(MetricsOptions.settings(tmConfig,
                getContainingTask().getJobConfiguration()));
        timerAt = Long.MAX_VALUE;
        LOG.info("{} opened: model {} on {}, {} bucket(s), max wait {}, max in flight {}", getOperatorName(), model,
                backend(), buckets, maxWait, maxInFlight);
    }

    @Override
    public void processElement(StreamRecord<IN> element) throws Exception {
        IN input = element.getValue();
        long now = getProcessingTimeService().getCurrentProcessingTime();
        DeadLetterRecord rejection = rejected(input, now);
        if (rejection != null) {
            deadLetter(rejection, element.hasTimestamp() ? element.getTimestamp() : Long.MIN_VALUE);
            return;
        }
        int bucket = bucketOf(input);
        OpenBatch<IN, B> batch = open[bucket];
        if (batch == null) {
            batch = takeBatch(bucket);
            open[bucket] = batch;
        }
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
            batch = new OpenBatch<>(bucket, allocate(bucket));
        }
        return batch;
    }

    /** A new Arrow batch, remembered so that {@link #close()} frees it whatever state it is in. */
    private B allocate(int bucket) {
        B b;
        try {
            b = newBatch(memory.allocator(), bucket);
        } catch (OutOfMemoryException e) {
            throw ArrowMemory.exhausted("a batch of bucket " + bucket + " for " + getOperatorName(), e);
        }
        allocated.add(b);
        return b;
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
        computeThread.execute(() -> computeAndReport(batch));
    }

    /** Compute thread: runs the batch and hands its outcome (or its failure) to the mailbox. */
    private void computeAndReport(OpenBatch<IN, B> batch) {
        String shape = describe(batch.arrow());
        try {
            BatchResult result = runner.run(batch);
            toMailbox(() -> emit(batch, result), "emit batch");
        } catch (Throwable t) {
            toMailbox(() -> {
                recycle(batch, -1);
                throw new IOException("compute failed on a batch of " + shape + " (model " + model + ")", t);
            }, "compute failure");
        }
    }

    /** Enqueues a letter; the mailbox is closed when the task is already failing or cancelled: then nothing to do. */
    private void toMailbox(org.apache.flink.util.function.ThrowingRunnable<? extends Exception> letter,
            String description) {
        try {
            mailbox.execute(letter, description);
        } catch (RejectedExecutionException | IllegalStateException e) {
            LOG.debug("{}: mailbox closed, dropping '{}' (the task is shutting down; close() frees the batch)",
                    getOperatorName(), description);
        }
    }

    private void emit(OpenBatch<IN, B> batch, BatchResult result) {
        try {
            StreamRecord<EncodedRecord> reuse = new StreamRecord<>(null);
            int out = 0;
            for (int row = 0; row < result.rows(); row++) {
                long ts = batch.timestamp(row);
                if (result.row(row) instanceof EncodedRecord r) {
                    if (ts == Long.MIN_VALUE) {
                        reuse.eraseTimestamp();
                        output.collect(reuse.replace(r));
                    } else {
                        output.collect(reuse.replace(r, ts));
                    }
                    out++;
                } else {
                    deadLetter((DeadLetterRecord) result.row(row), ts);
                }
            }
            metrics.recordsOut.inc(out);
        } finally {
            recycle(batch, result.computeNanos());
        }
    }

    private void deadLetter(DeadLetterRecord letter, long timestamp) {
        output.collect(DeadLetters.TAG, timestamp == Long.MIN_VALUE ? new StreamRecord<>(letter)
                : new StreamRecord<>(letter, timestamp));
        deadLetterCounters.get(letter.kind()).inc();
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

    /**
     * Stops the compute thread, then frees every Arrow batch this operator allocated, whether it was open, computing
     * or waiting in the mailbox, and closes its allocator. Runs on success, failure and cancellation alike.
     */
    @Override
    public void close() throws Exception {
        try {
            if (metrics != null) {
                metrics.close();
            }
            if (endpoint != null) {
                endpoint.close();
            }
            boolean computeStopped = true;
            if (computeThread != null) {
                computeThread.shutdownNow();
                computeStopped = computeThread.awaitTermination(COMPUTE_STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                if (computeStopped) {
                    closeCompute();
                }
            }
            if (!computeStopped) {
                // freeing buffers a running kernel still reads could crash the JVM: keep them (a bounded leak)
                LOG.error("compute thread of {} did not stop within {}; its Arrow batches stay allocated",
                        getOperatorName(), COMPUTE_STOP_WAIT);
            } else if (memory != null) {
                for (B b : allocated) {
                    b.close();
                }
                allocated.clear();
                memory.close(); // throws if an Arrow buffer leaked
            }
        } finally {
            super.close();
        }
    }

    /** Arrow bytes this operator holds (its batches, open, computing or pooled). */
    protected long allocatedBytes() {
        return memory == null ? 0 : memory.allocator().getAllocatedMemory();
    }

    /** The operator's hooks as {@link BisectingRunner} calls them on the compute thread. */
    private final class Hooks implements BatchHooks<IN, B, R> {
        @Override
        public B newBatch(int bucket) {
            return MicroBatchOperator.this.newBatch(memory.allocator(), bucket);
        }

        @Override
        public void append(B batch, IN input) {
            MicroBatchOperator.this.append(batch, input);
        }

        @Override
        public R compute(B batch) throws Exception {
            return MicroBatchOperator.this.compute(batch);
        }

        @Override
        public int resultRows(R result) {
            return MicroBatchOperator.this.resultRows(result);
        }

        @Override
        public boolean finite(R result, int row) {
            return MicroBatchOperator.this.finite(result, row);
        }

        @Override
        public EnrichedEvent enrich(IN input, B batch, int row, R result, long nowMs) {
            return MicroBatchOperator.this.enrich(input, batch, row, result, model, nowMs);
        }

        @Override
        public RawRecord raw(IN input) {
            return MicroBatchOperator.this.raw(input);
        }

        @Override
        public String describe(B batch) {
            return MicroBatchOperator.this.describe(batch);
        }
    }
}
