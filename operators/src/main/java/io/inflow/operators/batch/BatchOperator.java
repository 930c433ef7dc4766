package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.List;

/**
 * A one-input batching operator running a {@link BatchCompute}: rows are collected into Arrow batches, computed off
 * the task thread, and emitted in row order ({@link BatchCore}). On a keyed stream it is the keyed variant: each row
 * remembers its key, {@link BatchCompute#emit} runs with that key set (keyed state works there), and buffered rows
 * are checkpointed in keyed state, so they follow their keys through a rescale.
 *
 * <p>Checkpoints do not wait for compute: the rows of open batches and of batches still computing go into state at
 * the barrier ({@link PendingRows}) and are batched again after a restore. Watermarks wait behind buffered rows.
 *
 * <pre>{@code
 * DataStream<EncodedRecord> out = tokenized.transform("embed", TypeInformation.of(EncodedRecord.class),
 *         new BatchOperatorFactory<>(textCompute, new BatchSettings(Duration.ofMillis(50), 2, "embed", "text")));
 * }</pre>
 */
public class BatchOperator<IN, B extends RowBatch, R, OUT> extends AbstractStreamOperator<OUT>
        implements OneInputStreamOperator<IN, OUT>, BoundedOneInput {

    private static final long serialVersionUID = 1L;

    private final BatchCompute<IN, B, R, OUT> compute;
    private final BatchSettings settings;
    private final transient MailboxExecutor mailbox;
    private transient BatchCore<IN, B, R, OUT> core;
    private transient PendingRows<IN> pending;
    private transient List<PendingRows.Row<IN>> restored;

    public BatchOperator(StreamOperatorParameters<OUT> parameters, BatchCompute<IN, B, R, OUT> compute,
            BatchSettings settings) {
        super(parameters);
        this.compute = compute;
        this.settings = settings;
        this.mailbox = parameters.getMailboxExecutor();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        pending = BatchOperators.pendingRows(this, context);
        restored = context.isRestored() ? pending.restore() : List.of();
        compute.initializeState(BatchOperators.stateStores(this, context));
    }

    @Override
    public void open() throws Exception {
        super.open();
        core = BatchOperators.openCore(this, getOperatorName(), compute, settings, host());
        core.restore(restored);
        restored = null;
    }

    private BatchCore.Host<OUT> host() {
        return BatchOperators.host(this, output, getProcessingTimeService(), mailbox, super::processWatermark);
    }

    @Override
    public void processElement(StreamRecord<IN> element) throws Exception {
        core.processElement(element);
    }

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
    public void endInput() throws Exception {
        core.flushAndDrain();
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

    /** Batches computing or waiting to be emitted (tests, metrics). */
    int inFlight() {
        return core.inFlight();
    }

    /** Watermarks held behind buffered rows (tests). */
    int heldWatermarks() {
        return core.heldWatermarks();
    }
}
