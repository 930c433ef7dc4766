package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.ErrorKind;

import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;


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
public class TwoInputBatchOperator<IN, B extends RowBatch, R, OUT, IN2> extends AbstractBatchOperator<IN, B, R, OUT>
        implements TwoInputStreamOperator<IN, IN2, OUT>, BoundedMultiInput {

    private static final long serialVersionUID = 1L;

    private final TwoInputBatchCompute<IN, B, R, OUT, IN2> compute;
    private transient SideEmitter side;

    public TwoInputBatchOperator(StreamOperatorParameters<OUT> parameters,
            TwoInputBatchCompute<IN, B, R, OUT, IN2> compute, BatchSettings settings) {
        super(parameters, compute, settings);
        this.compute = compute;
    }

    @Override
    public void open() throws Exception {
        super.open();
        side = new SideEmitter();
    }

    @Override
    public void processElement1(StreamRecord<IN> element) throws Exception {
        core().processElement(element);
    }

    @Override
    public void processElement2(StreamRecord<IN2> element) throws Exception {
        side.timestamp = element.hasTimestamp() ? element.getTimestamp() : Long.MIN_VALUE;
        compute.processSide(element.getValue(), side);
    }

    @Override
    public void endInput(int inputId) throws Exception {
        if (inputId == 1) {
            core().flushAndDrain();
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
