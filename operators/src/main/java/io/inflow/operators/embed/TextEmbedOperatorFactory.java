package io.inflow.operators.embed;

import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.EnrichedEvent;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.legacy.YieldingOperatorFactory;

/**
 * Creates {@link TextEmbedOperator}s with access to the task's mailbox (needed to return results to the task thread
 * and to yield under back pressure).
 *
 * <pre>{@code
 * tokenized.transform("embed", TypeInformation.of(EnrichedEvent.class),
 *         new TextEmbedOperatorFactory(batching, compute, EmbeddingEncoding.OMIT));
 * }</pre>
 */
public final class TextEmbedOperatorFactory extends AbstractStreamOperatorFactory<EnrichedEvent>
        implements OneInputStreamOperatorFactory<TokenizedText, EnrichedEvent>, YieldingOperatorFactory<EnrichedEvent> {

    private static final long serialVersionUID = 1L;

    private final BatchingConfig config;
    private final TextBatchCompute compute;
    private final EmbeddingEncoding encoding;

    public TextEmbedOperatorFactory(BatchingConfig config, TextBatchCompute compute, EmbeddingEncoding encoding) {
        this.config = config;
        this.compute = compute;
        this.encoding = encoding;
        this.chainingStrategy = ChainingStrategy.ALWAYS;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<EnrichedEvent>> T createStreamOperator(
            StreamOperatorParameters<EnrichedEvent> parameters) {
        return (T) new TextEmbedOperator(parameters, config, compute, encoding);
    }

    @Override
    public void setMailboxExecutor(MailboxExecutor mailboxExecutor) {
        // the operator takes the executor from StreamOperatorParameters
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return TextEmbedOperator.class;
    }
}
