package io.inflow.operators.batch;

import io.inflow.gpu.batch.RowBatch;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.legacy.YieldingOperatorFactory;

/**
 * Creates {@link TwoInputBatchOperator}s for a {@link TwoInputBatchCompute}.
 *
 * <pre>{@code
 * queries.connect(updates.broadcast()).transform("lookup", type, new TwoInputBatchOperatorFactory<>(c, settings));
 * }</pre>
 */
public class TwoInputBatchOperatorFactory<IN, B extends RowBatch, R, OUT, IN2>
        extends AbstractStreamOperatorFactory<OUT>
        implements TwoInputStreamOperatorFactory<IN, IN2, OUT>, YieldingOperatorFactory<OUT> {

    private static final long serialVersionUID = 1L;

    private final TwoInputBatchCompute<IN, B, R, OUT, IN2> compute;
    private final BatchSettings settings;

    public TwoInputBatchOperatorFactory(TwoInputBatchCompute<IN, B, R, OUT, IN2> compute, BatchSettings settings) {
        this.compute = compute;
        this.settings = settings;
        this.chainingStrategy = ChainingStrategy.ALWAYS;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<OUT>> T createStreamOperator(StreamOperatorParameters<OUT> parameters) {
        return (T) new TwoInputBatchOperator<>(parameters, compute, settings);
    }

    @Override
    public void setMailboxExecutor(MailboxExecutor mailboxExecutor) {
        // the operator takes the executor from StreamOperatorParameters
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return TwoInputBatchOperator.class;
    }
}
