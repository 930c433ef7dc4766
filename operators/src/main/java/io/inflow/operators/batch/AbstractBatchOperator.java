package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.watermark.Watermark;

import java.util.List;

/**
 * The lifecycle every batching operator shares around its {@link BatchCore}: buffered rows restored from and written
 * to state ({@link PendingRows}), the compute's own state, opening and closing the core, watermarks held behind
 * buffered rows, draining at finish. {@link BatchOperator} and {@link TwoInputBatchOperator} add their inputs.
 *
 * <p>{@code final class MyOperator extends AbstractBatchOperator<IN, B, R, OUT> implements OneInputStreamOperator<IN, OUT>}
 */
public abstract class AbstractBatchOperator<IN, B extends RowBatch, R, OUT> extends AbstractStreamOperator<OUT> {

    private static final long serialVersionUID = 1L;

    private final BatchCompute<IN, B, R, OUT> compute;
    private final BatchSettings settings;
    private final transient MailboxExecutor mailbox;
    private transient BatchCore<IN, B, R, OUT> core;
    private transient PendingRows<IN> pending;
    private transient List<PendingRows.Row<IN>> restored;

    protected AbstractBatchOperator(StreamOperatorParameters<OUT> parameters, BatchCompute<IN, B, R, OUT> compute,
            BatchSettings settings) {
        super(parameters);
        this.compute = compute;
        this.settings = settings;
        this.mailbox = parameters.getMailboxExecutor();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        pending = BatchOperators.pendingRows(this, context, rowsKeyed());
        restored = context.isRestored() ? pending.restore() : List.of();
        compute.taskInfo(getRuntimeContext().getJobInfo().getJobName(),
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
        compute.initializeState(BatchOperators.stateStores(this, context));
    }

    @Override
    public void open() throws Exception {
        super.open();
        core = BatchOperators.openCore(this, getOperatorName(), compute, settings,
                BatchOperators.host(this, output, getProcessingTimeService(), mailbox, super::processWatermark,
                        rowsKeyed()));
        core.restore(restored);
        restored = null;
    }

    /**
     * Whether the batched rows (the first input) are keyed. A two-input operator may have keyed state for its second
     * input only (an index keyed by document id, queries broadcast): its rows are then buffered in operator state.
     */
    final boolean rowsKeyed() {
        return getKeyedStateBackend() != null && getStateKeySelector1() != null;
    }

    /** The core (valid after {@link #open()}). */
    final BatchCore<IN, B, R, OUT> core() {
        return core;
    }

    /** The watermark (combined over the inputs); it waits behind buffered rows. */
    @Override
    public void processWatermark(Watermark mark) throws Exception {
        core.processWatermark(mark);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        pending.snapshot(core.bufferedRows());
    }

    @Override
    public void finish() throws Exception {
        if (core != null) {
            core.flushAndDrain();
        }
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            if (core != null) {
                core.close();
            }
        } finally {
            super.close();
        }
    }
}
