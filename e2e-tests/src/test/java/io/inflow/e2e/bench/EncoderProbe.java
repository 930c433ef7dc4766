package io.inflow.e2e.bench;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.operators.embed.BatchOutput;
import io.inflow.operators.embed.SharedModel;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.schemas.ModelRef;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Wraps the pipeline's text compute to see what the encoder does inside the job (the MiniCluster runs in this JVM, so
 * the counters are shared with the benchmark): per run, batches, rows, rows of full batches, time inside the encoder
 * and time spent waiting for it. The subtasks of a TaskManager share one encoder behind one queue
 * ({@link SharedModel}); the queue's wait ({@link SharedModel#lastWaitNanos()}, "waiting for the other subtask") is
 * measured apart from "encoding". Behaviour is unchanged: the probe passes {@link #backlogged()} through.
 *
 * <p>{@code InflowPipeline.build(env, conf, UnaryOperator.identity(), c -> new EncoderProbe("run1", c));}
 */
final class EncoderProbe implements TextBatchCompute {

    private static final long serialVersionUID = 1L;
    private static final ConcurrentHashMap<String, Counters> RUNS = new ConcurrentHashMap<>();

    /** What the probe saw in one run. */
    static final class Counters {
        final LongAdder batches = new LongAdder();
        final LongAdder rows = new LongAdder();
        final LongAdder fullBatches = new LongAdder();
        final LongAdder busyNanos = new LongAdder();
        final LongAdder lockWaitNanos = new LongAdder();
        /** Rows times the batch's longest row: what the encoder computes (it trims padding to the longest row). */
        final LongAdder trimmedTokens = new LongAdder();
    }

    /** Rows times the longest row of the batch (the encoder's work, padding to the longest row included). */
    static long trimmedTokens(TokenBatch batch) {
        int longest = 0;
        for (int r = 0; r < batch.rowCount(); r++) {
            longest = Math.max(longest, batch.tokenCount(r));
        }
        return (long) longest * batch.rowCount();
    }

    private final String run;
    private final TextBatchCompute delegate;

    EncoderProbe(String run, TextBatchCompute delegate) {
        this.run = run;
        this.delegate = delegate;
    }

    static Counters counters(String run) {
        return RUNS.computeIfAbsent(run, k -> new Counters());
    }

    @Override
    public void open() throws Exception {
        delegate.open();
    }

    @Override
    public ModelRef model() {
        return delegate.model();
    }

    @Override
    public String backend() {
        return delegate.backend();
    }

    @Override
    public boolean backlogged() {
        return delegate.backlogged();
    }

    @Override
    public BatchOutput compute(TokenBatch batch) throws Exception {
        Counters c = counters(run);
        long t0 = System.nanoTime();
        BatchOutput out = delegate.compute(batch);
        long waited = SharedModel.lastWaitNanos();
        c.lockWaitNanos.add(waited);
        c.busyNanos.add(System.nanoTime() - t0 - waited);
        c.batches.increment();
        c.rows.add(batch.rowCount());
        c.trimmedTokens.add(trimmedTokens(batch));
        if (batch.rowCount() == batch.capacity()) {
            c.fullBatches.increment();
        }
        return out;
    }

    @Override
    public void close() throws Exception {
        delegate.close();
    }
}
