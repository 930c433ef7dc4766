package io.inflow.operators.embed;

import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.batch.MicroBatchOperator;
import io.inflow.operators.batch.MicroBatchOperatorFactory;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.EnrichedEvent;

import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Creates {@link TextEmbedOperator}s.
 *
 * <pre>{@code
 * tokenized.transform("embed", TypeInformation.of(EnrichedEvent.class),
 *         new TextEmbedOperatorFactory(batching, compute, EmbeddingEncoding.OMIT));
 * }</pre>
 */
public final class TextEmbedOperatorFactory extends MicroBatchOperatorFactory<TokenizedText> {

    private static final long serialVersionUID = 1L;

    private final BatchingConfig config;
    private final TextBatchCompute compute;
    private final EmbeddingEncoding encoding;

    public TextEmbedOperatorFactory(BatchingConfig config, TextBatchCompute compute, EmbeddingEncoding encoding) {
        super(TextEmbedOperator.class);
        this.config = config;
        this.compute = compute;
        this.encoding = encoding;
    }

    @Override
    protected MicroBatchOperator<TokenizedText, ?, ?> create(StreamOperatorParameters<EnrichedEvent> parameters) {
        return new TextEmbedOperator(parameters, config, compute, encoding);
    }
}
