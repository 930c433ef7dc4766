package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.metrics.BatchMetrics;
import io.inflow.operators.metrics.InflowMetrics;
import io.inflow.operators.metrics.MetricsEndpoint;
import io.inflow.operators.runtime.ArrowMemory;
import io.inflow.operators.runtime.HelperThreads;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ModelRef;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.api.operators.Output;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.ExceptionInChainedOperatorException;
import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * The machinery every batching operator shares, apart from Flink's operator interfaces (which
 * {@link BatchOperator} and {@link TwoInputBatchOperator} add around it):
 * <ol>
 *   <li>collecting ({@link BatchCollector}): a row already rejected upstream goes straight to the dead letters; any
 *       other is appended to its bucket's open batch, after that batch is handed over if the row does not fit
 *       ({@link BatchCompute#fits}). A batch goes to compute when full, when its first row has waited
 *       {@code maxWait} (later, up to {@code maxHold}, while it would only queue: see {@link #handOverExpired}),
 *       and at end of input;</li>
 *   <li>running: on the operator's compute thread ({@link HelperThreads}), at most {@code maxInFlight} batches at
 *       once (beyond that the task thread yields to its mailbox), a failing batch bisected down to its poison rows
 *       ({@link BisectingRunner}), results back through the mailbox;</li>
 *   <li>emitting: per row, in row order, {@link BatchCompute#emit} on the task thread with the row's timestamp (and
 *       key, in a keyed operator); then the batch is recycled, also when emitting fails. Watermarks wait behind
 *       buffered rows ({@link WatermarkHold}).</li>
 * </ol>
 * At a checkpoint nothing waits for compute: {@link #bufferedRows()} lists the rows of open and in-flight batches for
 * {@link PendingRows}, and a restored operator batches them again ({@link #restore}).
 *
 * <p>{@code close()} frees every Arrow batch it allocated, open, computing or in the mailbox, after stopping the
 * compute thread; a closed mailbox (the task is failing) is handled.
 */
final class BatchCore<IN, B extends RowBatch, R, OUT> {

    private static final Logger LOG = LoggerFactory.getLogger(BatchCore.class);
    /** How long {@link #close()} waits for the compute thread to finish the batch it is on. */
    static final Duration COMPUTE_STOP_WAIT = Duration.ofSeconds(30);

    /** What the core needs from the Flink operator around it. */
    interface Host<OUT> {
        Output<StreamRecord<OUT>> output();

        ProcessingTimeService timers();

        MailboxExecutor mailbox();

        /** The current key, or null when the operator is not keyed. */
        Object currentKey();

        void setCurrentKey(Object key);

        /** Passes a watermark on (advancing the operator's own timers). */
        void forwardWatermark(Watermark mark) throws Exception;
    }

    private final BatchCompute<IN, B, R, OUT> compute;
    private final BatchSettings settings;
    private final Host<OUT> host;
    private final String name;
    private final ArrowMemory.Child memory;
    private final BatchCollector<IN, B> collector;
    private final ArrayDeque<OpenBatch<IN, B>> inFlight = new ArrayDeque<>();
    private final WatermarkHold watermarks = new WatermarkHold();
    private final RowEmitter rowEmitter = new RowEmitter();
    private final DeferredEmitter deferredEmitter = new DeferredEmitter();
    private ExecutorService computeThread;
    private BisectingRunner<IN, B, R> runner;
    private BatchMetrics metrics;
    private Map<ErrorKind, CounterDataPoint> deadLetterCounters;
    private MetricsEndpoint.Lease endpoint;
    private ModelRef model;
    private long nextSeq;
    private long timerAt = Long.MAX_VALUE;

    BatchCore(BatchCompute<IN, B, R, OUT> compute, BatchSettings settings, Host<OUT> host, String name,
            ArrowMemory.Child memory) {
        this.compute = compute;
        this.settings = settings;
        this.host = host;
        this.name = name;
        this.memory = memory;
        this.collector = new BatchCollector<>(compute, memory.allocator(), name);
    }

    /** Opens the compute on its thread, then the metrics. */
    void open(String job, MetricsEndpoint.Settings endpointSettings) throws Exception {
        computeThread = Executors.newSingleThreadExecutor(HelperThreads.factory(name + "-compute"));
        runner = new BisectingRunner<>(compute, memory.allocator(), name);
        compute.deferredOutput(this::emitLater);
        // open on the compute thread: models may bind thread-affine resources (a CUDA context)
        computeThread.submit(() -> {
            compute.open();
            return null;
        }).get();
        model = compute.model();
        metrics = new BatchMetrics(job, settings.metricsOperator(), settings.modality(), model.name(),
                model.version(), compute.backend());
        deadLetterCounters = new EnumMap<>(ErrorKind.class);
        for (ErrorKind kind : ErrorKind.values()) {
            deadLetterCounters.put(kind, InflowMetrics.DEAD_LETTERS.labelValues(job, settings.metricsOperator(),
                    settings.modality(), kind.wireName()));
        }
        endpoint = MetricsEndpoint.acquire(endpointSettings);
        LOG.info("{} opened: model {} on {}, {} bucket(s), max wait {}, max in flight {}", name, model,
                compute.backend(), collector.buckets(), settings.maxWait(), settings.maxInFlight());
    }

    // ---- collecting -------------------------------------------------------------------------------

    void processElement(StreamRecord<IN> element) throws Exception {
        add(element.getValue(), element.hasTimestamp() ? element.getTimestamp() : Long.MIN_VALUE, host.currentKey());
    }

    /** Batches restored rows again (at open, after a restore), each under its key. */
    void restore(List<PendingRows.Row<IN>> rows) throws Exception {
        if (!rows.isEmpty()) {
            LOG.info("{}: batching {} rows restored from the checkpoint", name, rows.size());
        }
        for (PendingRows.Row<IN> r : rows) {
            if (r.key() != null) {
                host.setCurrentKey(r.key());
            }
            add(r.value(), r.timestamp(), r.key());
        }
    }

    private void add(IN input, long timestamp, Object key) throws Exception {
        long now = host.timers().getCurrentProcessingTime();
        DeadLetterRecord rejection = compute.rejected(input, now);
        if (rejection != null) {
            collectDeadLetter(rejection, timestamp);
            return;
        }
        int bucket = compute.bucketOf(input);
        OpenBatch<IN, B> batch = collector.peek(bucket);
        if (batch != null && !batch.isEmpty() && !compute.fits(batch.arrow(), input)) {
            flush(bucket); // the row does not fit: its batch goes first, the row starts the next one
        }
        // a bucket has at most one open batch, so Arrow memory stays within (buckets + maxInFlight) batches; back
        // pressure comes from flush, which waits for a free compute slot when a batch is full
        batch = collector.open(bucket);
        compute.append(batch.arrow(), input);
        batch.add(input, timestamp, key, nextSeq++, now);
        metrics.recordsIn.inc();
        compute.onRecord(input, metrics);
        if (compute.isFull(batch.arrow())) {
            flush(bucket);
        } else if (batch.size() == 1) {
            scheduleTimer(now + settings.maxWait().toMillis());
        }
    }

    private void scheduleTimer(long at) {
        if (at < timerAt) {
            timerAt = at;
            host.timers().registerTimer(at, this::onTimer);
        }
    }

    private void onTimer(long time) throws Exception {
        if (time != timerAt) {
            return; // superseded by an earlier timer
        }
        timerAt = Long.MAX_VALUE;
        handOverExpired(time);
    }

    /**
     * Hands over open batches whose first row has waited {@code maxWait}, unless handing over now would only make
     * the batch queue: while this operator still has a batch computing (its compute thread runs one batch at a time)
     * or the shared model has a batch of another operator waiting ({@link BatchCompute#backlogged()}), an expired
     * batch keeps filling, up to {@code maxHold} after its first row. So at most one batch goes per pass, batches grow
     * under load, and at low load nothing changes (max-wait, then compute). Schedules the timer for the next batch
     * to expire, to reach {@code maxHold}, or to look at the model's queue again.
     */
    private void handOverExpired(long now) throws InterruptedException {
        long next = Long.MAX_VALUE;
        long wait = settings.maxWait().toMillis();
        long hold = settings.maxHold().toMillis();
        for (int b = 0; b < collector.buckets(); b++) {
            OpenBatch<IN, B> batch = collector.peek(b);
            if (batch == null || batch.isEmpty()) {
                continue;
            }
            long expires = batch.openedAtMs() + wait;
            long holdEnds = batch.openedAtMs() + hold;
            if (expires > now) {
                next = Math.min(next, expires);
            } else if (inFlight.size() >= settings.maxInFlight()) {
                // no compute slot free: it goes when the next batch comes back (done), still filling meanwhile
            } else if (holdEnds > now && !inFlight.isEmpty()) {
                next = Math.min(next, holdEnds); // or earlier, when the computing batch comes back (done)
            } else if (holdEnds > now && compute.backlogged()) {
                next = Math.min(next, Math.min(holdEnds, now + backlogPollMs()));
            } else {
                flush(b);
            }
        }
        if (next != Long.MAX_VALUE) {
            scheduleTimer(next);
        }
    }

    /** How often a batch held for a backlogged model looks at the model's queue again: a tenth of max-wait. */
    private long backlogPollMs() {
        return Math.max(1, Math.min(10, settings.maxWait().toMillis() / 10));
    }

    // ---- running ----------------------------------------------------------------------------------

    /**
     * Hands the bucket's open batch to the compute thread, once fewer than {@code maxInFlight} are computing. The
     * metrics split the rows' wait: filling, from the first row until the batch was ready (full, or max-wait
     * reached), and queueing, from then until a compute slot took it.
     */
    private void flush(int bucket) throws InterruptedException {
        long calledAt = host.timers().getCurrentProcessingTime();
        while (collector.peek(bucket) != null && !collector.peek(bucket).isEmpty()
                && inFlight.size() >= settings.maxInFlight()) {
            host.mailbox().yield();
        }
        OpenBatch<IN, B> batch = collector.take(bucket);
        if (batch == null) {
            return;
        }
        long[] units = compute.units(batch.arrow());
        long readyAt = Math.min(calledAt, batch.openedAtMs() + settings.maxWait().toMillis());
        long handedAt = host.timers().getCurrentProcessingTime();
        metrics.batchFlushed(batch.size(), units[0], units[1], Math.max(0, readyAt - batch.openedAtMs()),
                Math.max(0, handedAt - readyAt));
        batch.pin(compute.pin());
        inFlight.add(batch);
        String shape = compute.describe(batch.arrow());
        computeThread.execute(() -> {
            try {
                BatchResult<IN, R> result = runner.run(batch);
                toMailbox(() -> emit(batch, result), "emit batch");
            } catch (Throwable t) {
                toMailbox(() -> {
                    done(batch, -1);
                    throw new IOException("compute failed on a batch of " + shape + " (model " + model + ")", t);
                }, "compute failure");
            }
        });
    }

    /** Enqueues a letter; the mailbox is closed when the task is already failing or cancelled: nothing to do then. */
    private void toMailbox(org.apache.flink.util.function.ThrowingRunnable<? extends Exception> letter,
            String description) {
        try {
            host.mailbox().execute(letter, description);
        } catch (RejectedExecutionException | IllegalStateException e) {
            LOG.debug("{}: mailbox closed, dropping '{}' (the task is shutting down; close() frees the batch)",
                    name, description);
        }
    }

    // ---- emitting ---------------------------------------------------------------------------------

    private void emit(OpenBatch<IN, B> batch, BatchResult<IN, R> result) throws Exception {
        try {
            int emitted = 0;
            for (int row = 0; row < result.rows(); row++) {
                rowEmitter.at(batch, row);
                if (batch.key(row) != null) {
                    host.setCurrentKey(batch.key(row));
                }
                DeadLetterRecord failed = result.failure(row);
                if (failed != null) {
                    rowEmitter.deadLetter(failed);
                    continue;
                }
                BatchResult.Part<IN, R> part = result.partOf(row);
                try {
                    compute.emit(batch.input(row), row - part.from(), part.result(), rowEmitter);
                    emitted++;
                } catch (ExceptionInChainedOperatorException e) {
                    throw e; // a downstream operator failed: not this row's fault
                } catch (RuntimeException e) {
                    rowEmitter.deadLetter(ErrorKind.COMPUTE_FAILED, "emitting the row's output failed: " + e,
                            BisectingRunner.STAGE);
                }
            }
            for (BatchResult.Part<IN, R> part : result.parts()) {
                rowEmitter.at(batch, part.from());
                compute.emitBatch(part.inputs(), part.result(), rowEmitter);
            }
            metrics.recordsOut.inc(emitted);
        } finally {
            done(batch, result.computeNanos());
        }
    }

    /** A batch left compute ({@code computeNanos} < 0: it failed): recycle it and release held watermarks. */
    private void done(OpenBatch<IN, B> batch, long computeNanos) throws Exception {
        metrics.batchDone(computeNanos);
        inFlight.remove(batch);
        collector.recycle(batch);
        flushExpired();
        watermarks.release(oldestBufferedSeq(), this::forward);
    }

    /** A compute slot came free: hand over the open batches whose first row has waited {@code maxWait}. */
    private void flushExpired() throws InterruptedException {
        handOverExpired(host.timers().getCurrentProcessingTime());
    }

    private void collectDeadLetter(DeadLetterRecord letter, long timestamp) {
        host.output().collect(DeadLetters.TAG, timestamp == Long.MIN_VALUE ? new StreamRecord<>(letter)
                : new StreamRecord<>(letter, timestamp));
        deadLetterCounters.get(letter.kind()).inc();
    }

    /** {@link DeferredOutput}: the action runs through the mailbox, under its key, with an untimed emitter. */
    private void emitLater(Object key, org.apache.flink.util.function.ThrowingConsumer<Emitter<OUT>, Exception> action) {
        toMailbox(() -> {
            if (key != null) {
                host.setCurrentKey(key);
            }
            action.accept(deferredEmitter);
        }, "deferred output");
    }

    // ---- watermarks and checkpoints ---------------------------------------------------------------

    void processWatermark(Watermark mark) throws Exception {
        watermarks.offer(mark, nextSeq, oldestBufferedSeq(), this::forward);
    }

    private void forward(Watermark mark) {
        try {
            host.forwardWatermark(mark);
        } catch (Exception e) {
            throw new IllegalStateException("forwarding " + mark + " failed", e);
        }
    }

    /** Arrival number of the oldest row not yet emitted, {@code Long.MAX_VALUE} when none. */
    private long oldestBufferedSeq() {
        long oldest = collector.oldestSeq();
        for (OpenBatch<IN, B> b : inFlight) {
            oldest = Math.min(oldest, b.firstSeq());
        }
        return oldest;
    }

    /** Rows not yet emitted, oldest first: those of batches computing, then of open batches (for a checkpoint). */
    List<PendingRows.Row<IN>> bufferedRows() {
        List<OpenBatch<IN, B>> batches = new ArrayList<>(inFlight);
        batches.addAll(collector.openBatches());
        batches.sort((a, b) -> Long.compare(a.firstSeq(), b.firstSeq()));
        List<PendingRows.Row<IN>> rows = new ArrayList<>();
        for (OpenBatch<IN, B> b : batches) {
            for (int i = 0; i < b.size(); i++) {
                rows.add(new PendingRows.Row<>(b.input(i), b.timestamp(i), b.key(i)));
            }
        }
        return rows;
    }

    /** Flushes every open batch and waits until all computed batches are emitted (end of input, finish). */
    void flushAndDrain() throws InterruptedException {
        for (int b = 0; b < collector.buckets(); b++) {
            flush(b);
        }
        while (!inFlight.isEmpty()) {
            host.mailbox().yield();
        }
    }

    /**
     * Stops the compute thread, then frees every Arrow batch this operator allocated, whether it was open,
     * computing or waiting in the mailbox, and closes its allocator. Runs on success, failure and cancellation.
     */
    void close() throws Exception {
        if (metrics != null) {
            metrics.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
        boolean stopped = true;
        if (computeThread != null) {
            computeThread.shutdownNow();
            stopped = computeThread.awaitTermination(COMPUTE_STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (stopped) {
                compute.close();
            }
        }
        if (!stopped) {
            // freeing buffers a running kernel still reads could crash the JVM: keep them (a bounded leak)
            LOG.error("compute thread of {} did not stop within {}; its Arrow batches stay allocated", name,
                    COMPUTE_STOP_WAIT);
            return;
        }
        collector.freeAll();
        memory.close(); // throws if an Arrow buffer leaked
    }

    /** The emitter handed to {@link BatchCompute#emit}: the current row's timestamp and raw record. */
    private final class RowEmitter implements Emitter<OUT> {
        private final StreamRecord<OUT> reuse = new StreamRecord<>(null);
        private OpenBatch<IN, B> batch;
        private int row;

        void at(OpenBatch<IN, B> batch, int row) {
            this.batch = batch;
            this.row = row;
        }

        @Override
        public void collect(OUT value) {
            long ts = timestamp();
            if (ts == Long.MIN_VALUE) {
                reuse.eraseTimestamp();
                host.output().collect(reuse.replace(value));
            } else {
                host.output().collect(reuse.replace(value, ts));
            }
        }

        @Override
        public void deadLetter(ErrorKind kind, String message, String stage) {
            deadLetter(DeadLetters.of(compute.raw(batch.input(row)), kind, message, stage,
                    System.currentTimeMillis()));
        }

        @Override
        public void deadLetter(DeadLetterRecord letter) {
            collectDeadLetter(letter, timestamp());
        }

        @Override
        public <X> void sideOutput(OutputTag<X> tag, X value) {
            long ts = timestamp();
            host.output().collect(tag, ts == Long.MIN_VALUE ? new StreamRecord<>(value)
                    : new StreamRecord<>(value, ts));
        }

        @Override
        public long timestamp() {
            return batch.timestamp(row);
        }
    }

    /** The emitter of {@link DeferredOutput} actions: no row, no timestamp. */
    private final class DeferredEmitter implements Emitter<OUT> {
        @Override
        public void collect(OUT value) {
            host.output().collect(new StreamRecord<>(value));
        }

        @Override
        public void deadLetter(ErrorKind kind, String message, String stage) {
            throw new UnsupportedOperationException("deferred output has no input row to dead-letter; build the"
                    + " DeadLetterRecord and use deadLetter(letter)");
        }

        @Override
        public void deadLetter(DeadLetterRecord letter) {
            collectDeadLetter(letter, Long.MIN_VALUE);
        }

        @Override
        public <X> void sideOutput(OutputTag<X> tag, X value) {
            host.output().collect(tag, new StreamRecord<>(value));
        }

        @Override
        public long timestamp() {
            return Long.MIN_VALUE;
        }
    }
}
