package io.inflow.operators.embed;

import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.batch.MicroBatchOperator;
import io.inflow.operators.batch.MicroBatchOperatorFactory;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.EncodedRecord;

import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Creates {@link TextEmbedOperator}s.
 *
 * <pre>{@code
 * tokenized.transform("embed", TypeInformation.of(EncodedRecord.class),
 *         new TextEmbedOperatorFactory(batching, compute, EmbeddingEncoding.OMIT, new OutputEncoder(1 << 20)));
 * }</pre>
 */
public final class TextEmbedOperatorFactory extends MicroBatchOperatorFactory<TokenizedText> {

    private static final long serialVersionUID = 1L;

    private final BatchingConfig config;
    private final TextBatchCompute compute;
    private final EmbeddingEncoding encoding;
    private final OutputEncoder encoder;

    public TextEmbedOperatorFactory(BatchingConfig config, TextBatchCompute compute, EmbeddingEncoding encoding,
            OutputEncoder encoder) {
        super(TextEmbedOperator.class);
        this.config = config;
        this.compute = compute;
        this.encoding = encoding;
        this.encoder = encoder;
    }

    @Override
    protected MicroBatchOperator<TokenizedText, ?, ?> create(StreamOperatorParameters<EncodedRecord> parameters) {
        return new TextEmbedOperator(parameters, config, compute, encoding, encoder);
    }
}
