package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.batch.LengthBuckets;
import io.inflow.operators.batch.OpenBatch;
import io.inflow.operators.metrics.MetricsEndpoint;
import io.inflow.operators.metrics.MetricsOptions;
import io.inflow.operators.metrics.BatchMetrics;
import io.inflow.operators.tokenize.TokenizedText;
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
import java.util.ArrayDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Packs tokenized texts into Arrow micro-batches grouped by token-length bucket, computes each batch off the task
 * thread and emits one {@link EnrichedEvent} per input.
 *
 * <p>How a record travels (tokenization happened before, off the task thread, in
 * {@link io.inflow.operators.tokenize.AsyncTokenizeFunction}):
 * <ol>
 *   <li>{@code processElement} (task thread) picks the smallest length bucket that holds the token ids and copies
 *       them into that bucket's open {@link TokenBatch}. A batch is handed to compute when it reaches {@code maxRecords} rows or
 *       {@code maxTokens} padded tokens, when its first row has waited {@code maxWait} (processing-time timer),
 *       before a checkpoint barrier and at end of input.</li>
 *   <li>Compute runs on the operator's own compute thread. At most {@code maxInFlight} batches are out at once;
 *       beyond that the task thread yields to its mailbox (back pressure), it never blocks in compute.</li>
 *   <li>The result comes back through the task's mailbox, where the enriched events are emitted in the batch's row
 *       order and the batch is cleared and returned to its bucket's pool.</li>
 * </ol>
 *
 * <p>Checkpoints: {@link #prepareSnapshotPreBarrier} flushes every open batch and waits until nothing is in flight,
 * so all outputs of records before the barrier are emitted before it and the operator keeps no state. Together with
 * Kafka's transactional sink this gives exactly-once output.
 *
 * <p>Create it through {@link TextEmbedOperatorFactory}:
 * <pre>{@code
 * DataStream<EnrichedEvent> out = tokenized.transform("embed", TypeInformation.of(EnrichedEvent.class),
 *         new TextEmbedOperatorFactory(BatchingConfig.defaults(),
 *                 new TokenizationOnlyCompute(TextModel.ALL_MINILM_L6_V2), EmbeddingEncoding.FLOAT32));
 * }</pre>
 */
public final class TextEmbedOperator extends AbstractStreamOperator<EnrichedEvent>
        implements OneInputStreamOperator<TokenizedText, EnrichedEvent>, BoundedOneInput {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TextEmbedOperator.class);
    /** The {@code operator} label of its metrics. */
    public static final String METRICS_OPERATOR = "embed";
    /** The {@code modality} label of its metrics. */
    public static final String MODALITY = "text";

    private final BatchingConfig config;
    private final TextBatchCompute compute;
    private final EmbeddingEncoding encoding;
    private final transient MailboxExecutor mailbox;

    private transient BufferAllocator allocator;
    private transient LengthBuckets buckets;
    private transient OpenBatch[] open;
    private transient ArrayDeque<OpenBatch>[] pool;
    private transient ExecutorService computeThread;
    private transient BatchMetrics metrics;
    private transient MetricsEndpoint.Lease endpoint;
    private transient ModelRef model;
    private transient int inFlight;
    private transient long timerAt;

    TextEmbedOperator(StreamOperatorParameters<EnrichedEvent> parameters, BatchingConfig config,
            TextBatchCompute compute, EmbeddingEncoding encoding) {
        super(parameters);
        this.config = config;
        this.compute = compute;
        this.encoding = encoding;
        this.mailbox = parameters.getMailboxExecutor();
    }

    @Override
    @SuppressWarnings("unchecked")
    public void open() throws Exception {
        super.open();
        buckets = new LengthBuckets(config.buckets());
        allocator = new RootAllocator();
        open = new OpenBatch[buckets.count()];
        pool = new ArrayDeque[buckets.count()];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = new ArrayDeque<>();
        }
        String name = getOperatorName() + "-compute-" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        computeThread = Executors.newSingleThreadExecutor(new ExecutorThreadFactory(name));
        // open on the compute thread: models may bind thread-affine resources (a CUDA context)
        computeThread.submit(() -> {
            compute.open();
            return null;
        }).get();
        model = compute.model();
        metrics = new BatchMetrics(getRuntimeContext().getJobInfo().getJobName(), METRICS_OPERATOR, MODALITY,
                model.name(), model.version(), compute.backend());
        endpoint = MetricsEndpoint.acquire(MetricsOptions.settings(
                getContainingTask().getEnvironment().getTaskManagerInfo().getConfiguration(),
                getContainingTask().getJobConfiguration()));
        timerAt = Long.MAX_VALUE;
        LOG.info("{} opened: model {}, {}", getOperatorName(), model, config);
    }

    @Override
    public void processElement(StreamRecord<TokenizedText> element) throws Exception {
        TokenizedText t = element.getValue();
        int bucket = buckets.indexFor(t.ids().length);
        OpenBatch batch = open[bucket];
        if (batch == null) {
            batch = takeBatch(bucket);
            open[bucket] = batch;
        }
        long now = getProcessingTimeService().getCurrentProcessingTime();
        batch.add(t.input(), element.hasTimestamp() ? element.getTimestamp() : Long.MIN_VALUE, t.ids(),
                t.truncated(), now);
        metrics.recordsIn.inc();
        if (t.truncated()) {
            metrics.truncated.inc();
        }
        if (batch.isFull()) {
            flush(bucket);
        } else if (batch.size() == 1) {
            scheduleTimer(now + config.maxWait().toMillis());
        }
    }

    /** A cleared batch for the bucket: from its pool, or newly allocated (at most open + in-flight exist). */
    private OpenBatch takeBatch(int bucket) throws InterruptedException {
        // back pressure: never hold more than maxInFlight batches in compute
        while (inFlight >= config.maxInFlight()) {
            mailbox.yield();
        }
        OpenBatch batch = pool[bucket].poll();
        if (batch == null) {
            int len = buckets.length(bucket);
            batch = new OpenBatch(bucket, new TokenBatch(allocator, len, config.rowsFor(len)));
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
        long maxWait = config.maxWait().toMillis();
        for (int b = 0; b < open.length; b++) {
            OpenBatch batch = open[b];
            if (batch == null || batch.isEmpty()) {
                continue;
            }
            if (batch.openedAtMs() + maxWait <= time) {
                flush(b);
            } else {
                next = Math.min(next, batch.openedAtMs() + maxWait);
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
        OpenBatch batch = open[bucket];
        open[bucket] = null;
        if (batch == null || batch.isEmpty()) {
            if (batch != null) {
                pool[bucket].push(batch);
            }
            return;
        }
        while (inFlight >= config.maxInFlight()) {
            mailbox.yield();
        }
        TokenBatch tokens = batch.tokens();
        long now = getProcessingTimeService().getCurrentProcessingTime();
        metrics.batchFlushed(batch.size(), tokens.realTokens(), tokens.paddedTokens(), now - batch.openedAtMs());
        inFlight++;
        computeThread.execute(() -> {
            long start = System.nanoTime();
            BatchOutput output;
            try {
                output = compute.compute(tokens);
            } catch (Throwable t) {
                String shape = batch.size() + " rows x " + tokens.seqLen() + " tokens";
                mailbox.execute(() -> {
                    recycle(batch, -1);
                    throw new IOException("compute failed on a batch of " + shape + " (model " + model + ")", t);
                }, "compute failure");
                return;
            }
            long nanos = System.nanoTime() - start;
            mailbox.execute(() -> emit(batch, output, nanos), "emit batch");
        });
    }

    private void emit(OpenBatch batch, BatchOutput result, long computeNanos) {
        TokenBatch tokens = batch.tokens();
        if (result.rows() != batch.size()) {
            throw new IllegalStateException("compute returned " + result.rows() + " rows for a batch of "
                    + batch.size());
        }
        long now = getProcessingTimeService().getCurrentProcessingTime();
        StreamRecord<EnrichedEvent> reuse = new StreamRecord<>(null);
        for (int row = 0; row < batch.size(); row++) {
            EnrichedEvent event = EnrichedEvents.text(batch.input(row), tokens, row, result, model, encoding, now);
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
    private void recycle(OpenBatch batch, long computeNanos) {
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
                compute.close();
            }
            if (open != null) {
                for (OpenBatch b : open) {
                    if (b != null) {
                        b.tokens().close();
                    }
                }
                for (ArrayDeque<OpenBatch> p : pool) {
                    p.forEach(b -> b.tokens().close());
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
