package io.inflow.operators.batch;

import io.inflow.schemas.EncodedRecord;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.legacy.YieldingOperatorFactory;

/**
 * Creates {@link MicroBatchOperator}s with access to the task's mailbox (needed to return results to the task
 * thread and to yield under back pressure); chained to their input.
 *
 * <pre>{@code
 * final class MyFactory extends MicroBatchOperatorFactory<MyInput> {
 *     MyFactory() { super(MyOperator.class); }
 *     protected MicroBatchOperator<MyInput, ?, ?> create(StreamOperatorParameters<EncodedRecord> p) { return new MyOperator(p); }
 * }
 * }</pre>
 *
 * @param <IN> the operator's input record
 */
public abstract class MicroBatchOperatorFactory<IN> extends AbstractStreamOperatorFactory<EncodedRecord>
        implements OneInputStreamOperatorFactory<IN, EncodedRecord>, YieldingOperatorFactory<EncodedRecord> {

    private static final long serialVersionUID = 1L;

    @SuppressWarnings("rawtypes")
    private final Class<? extends StreamOperator> operatorClass;

    @SuppressWarnings("rawtypes")
    protected MicroBatchOperatorFactory(Class<? extends StreamOperator> operatorClass) {
        this.operatorClass = operatorClass;
        this.chainingStrategy = ChainingStrategy.ALWAYS;
    }

    /** A new operator instance for one subtask. */
    protected abstract MicroBatchOperator<IN, ?, ?> create(StreamOperatorParameters<EncodedRecord> parameters);

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<EncodedRecord>> T createStreamOperator(
            StreamOperatorParameters<EncodedRecord> parameters) {
        return (T) create(parameters);
    }

    @Override
    public void setMailboxExecutor(MailboxExecutor mailboxExecutor) {
        // the operator takes the executor from StreamOperatorParameters
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return operatorClass;
    }
}
