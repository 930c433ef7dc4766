package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.ErrorKind;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import java.util.List;

/**
 * The two-input variant of {@link BatchOperator}: the first input is batched and computed off the task thread, the
 * second is handed to {@link TwoInputBatchCompute#processSide} on the task thread, between batches. Watermarks are
 * combined over both inputs (Flink's rule: the minimum) and then wait behind buffered rows of the first input;
 * buffered rows are checkpointed as in the one-input operator.
 *
 * <pre>{@code
 * DataStream<Result> out = queries.connect(updates.broadcast())
 *         .transform("lookup", resultType, new TwoInputBatchOperatorFactory<>(lookup, settings));
 * }</pre>
 */
public class TwoInputBatchOperator<IN, B extends RowBatch, R, OUT, IN2> extends AbstractStreamOperator<OUT>
        implements TwoInputStreamOperator<IN, IN2, OUT>, BoundedMultiInput {

    private static final long serialVersionUID = 1L;

    private final TwoInputBatchCompute<IN, B, R, OUT, IN2> compute;
    private final BatchSettings settings;
    private final transient MailboxExecutor mailbox;
    private transient BatchCore<IN, B, R, OUT> core;
    private transient PendingRows<IN> pending;
    private transient List<PendingRows.Row<IN>> restored;
    private transient SideEmitter side;

    public TwoInputBatchOperator(StreamOperatorParameters<OUT> parameters,
            TwoInputBatchCompute<IN, B, R, OUT, IN2> compute, BatchSettings settings) {
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
        core = BatchOperators.openCore(this, getOperatorName(), compute, settings,
                BatchOperators.host(this, output, getProcessingTimeService(), mailbox, super::processWatermark));
        core.restore(restored);
        restored = null;
        side = new SideEmitter();
    }

    @Override
    public void processElement1(StreamRecord<IN> element) throws Exception {
        core.processElement(element);
    }

    @Override
    public void processElement2(StreamRecord<IN2> element) throws Exception {
        side.timestamp = element.hasTimestamp() ? element.getTimestamp() : Long.MIN_VALUE;
        compute.processSide(element.getValue(), side);
    }

    /** The watermark combined over both inputs; it waits behind buffered rows. */
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
    public void endInput(int inputId) throws Exception {
        if (inputId == 1) {
            core.flushAndDrain();
        }
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

    /** Outputs of the second input: no row behind them, so no dead letter of a row either. */
    private final class SideEmitter implements Emitter<OUT> {
        private final StreamRecord<OUT> reuse = new StreamRecord<>(null);
        private long timestamp;

        @Override
        public void collect(OUT value) {
            if (timestamp == Long.MIN_VALUE) {
                reuse.eraseTimestamp();
                output.collect(reuse.replace(value));
            } else {
                output.collect(reuse.replace(value, timestamp));
            }
        }

        @Override
        public void deadLetter(ErrorKind kind, String message, String stage) {
            throw new IllegalStateException("the side input has no raw record of its own: build a"
                    + " DeadLetterRecord for the element and pass it to deadLetter(DeadLetterRecord)");
        }

        @Override
        public void deadLetter(DeadLetterRecord letter) {
            sideOutput(io.inflow.operators.decode.DeadLetters.TAG, letter);
        }

        @Override
        public <X> void sideOutput(OutputTag<X> tag, X value) {
            output.collect(tag, timestamp == Long.MIN_VALUE ? new StreamRecord<>(value)
                    : new StreamRecord<>(value, timestamp));
        }

        @Override
        public long timestamp() {
            return timestamp;
        }
    }
}
