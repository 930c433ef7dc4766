package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.legacy.YieldingOperatorFactory;

/**
 * Creates {@link BatchOperator}s for a {@link BatchCompute}, with access to the task's mailbox (needed to return
 * results to the task thread and to yield under back pressure); chained to their input.
 *
 * <pre>{@code
 * stream.transform("embed", TypeInformation.of(EncodedRecord.class), new BatchOperatorFactory<>(compute, settings));
 * }</pre>
 */
public class BatchOperatorFactory<IN, B extends RowBatch, R, OUT> extends AbstractStreamOperatorFactory<OUT>
        implements OneInputStreamOperatorFactory<IN, OUT>, YieldingOperatorFactory<OUT> {

    private static final long serialVersionUID = 1L;

    private final BatchCompute<IN, B, R, OUT> compute;
    private final BatchSettings settings;

    public BatchOperatorFactory(BatchCompute<IN, B, R, OUT> compute, BatchSettings settings) {
        this.compute = compute;
        this.settings = settings;
        this.chainingStrategy = ChainingStrategy.ALWAYS;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<OUT>> T createStreamOperator(StreamOperatorParameters<OUT> parameters) {
        return (T) new BatchOperator<>(parameters, compute, settings);
    }

    @Override
    public void setMailboxExecutor(MailboxExecutor mailboxExecutor) {
        // the operator takes the executor from StreamOperatorParameters
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return BatchOperator.class;
    }

    /** The compute the operators run (tests, wiring). */
    public BatchCompute<IN, B, R, OUT> compute() {
        return compute;
    }
}
