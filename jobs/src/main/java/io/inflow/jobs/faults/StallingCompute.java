package io.inflow.jobs.faults;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.operators.embed.BatchOutput;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.schemas.ModelRef;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * A fault drill around the text compute ({@code inflow.fault-injection.compute-stall-file}): while the file exists
 * on the TaskManager's host, every batch waits before it computes, as a hung GPU or a stalled model server would.
 * Rows keep arriving, batches fill up to {@code inflow.batch.max-in-flight}, back pressure reaches the Kafka source
 * and lag grows; removing the file lets the batches go on. Used by the stall test ({@code ClusterStallTest}) and by
 * operators rehearsing how their alerts and dashboards look during a stall. Off unless the key is set.
 *
 * <pre>{@code
 * ./inflow cluster submit -Dinflow.fault-injection.compute-stall-file=/tmp/stall ...
 * touch /tmp/stall; sleep 60; rm /tmp/stall     # a 60 s stall of every compute thread
 * }</pre>
 */
public final class StallingCompute implements TextBatchCompute {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(StallingCompute.class);
    /** How often a stalled batch looks for the file again. */
    static final long POLL_MS = 50;
    /** How often a stall says it still lasts. */
    private static final long REPORT_MS = 10_000;

    private final TextBatchCompute delegate;
    private final String file;

    private StallingCompute(TextBatchCompute delegate, String file) {
        this.delegate = delegate;
        this.file = file;
    }

    /** {@code compute} gated by {@code file}; {@code compute} itself when {@code file} is null or blank. */
    public static TextBatchCompute wrap(TextBatchCompute compute, String file) {
        return file == null || file.isBlank() ? compute : new StallingCompute(compute, file.strip());
    }

    /**
     * Applies {@code change} to the compute inside the gate (or to {@code compute} itself when it has none) and keeps
     * the gate around the result: branches that derive a compute from the configured one (the retrieval branch's
     * rerank and corpus computes) stay under the drill.
     */
    public static TextBatchCompute map(TextBatchCompute compute, UnaryOperator<TextBatchCompute> change) {
        return compute instanceof StallingCompute s ? new StallingCompute(change.apply(s.delegate), s.file)
                : change.apply(compute);
    }

    @Override
    public void open() throws Exception {
        LOG.warn("fault drill armed: text batches stall while {} exists (inflow.fault-injection.compute-stall-file)",
                file);
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
        awaitNoStall(Path.of(file), batch.rowCount());
        return delegate.compute(batch);
    }

    @Override
    public void close() throws Exception {
        delegate.close();
    }

    /** Blocks while {@code gate} exists (interruptible: a cancelled task stops waiting). */
    private static void awaitNoStall(Path gate, int rows) throws InterruptedException {
        if (!Files.exists(gate)) {
            return;
        }
        long t0 = System.nanoTime();
        long nextReport = REPORT_MS;
        LOG.warn("compute stalled: {} exists; a batch of {} rows waits until it is removed", gate, rows);
        while (Files.exists(gate)) {
            Thread.sleep(POLL_MS);
            long waitedMs = (System.nanoTime() - t0) / 1_000_000;
            if (waitedMs >= nextReport) {
                LOG.warn("compute still stalled after {} s ({} exists)", waitedMs / 1000, gate);
                nextReport += REPORT_MS;
            }
        }
        LOG.warn("compute stall over after {} ms: {} was removed", (System.nanoTime() - t0) / 1_000_000, gate);
    }
}
