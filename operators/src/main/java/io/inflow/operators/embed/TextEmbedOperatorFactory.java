package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.operators.batch.BatchOperatorFactory;
import io.inflow.operators.batch.BatchSettings;
import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.EncodedRecord;

/**
 * The text embedding operator: a {@link io.inflow.operators.batch.BatchOperator} running {@link TextEmbedCompute}.
 *
 * <pre>{@code
 * tokenized.transform("embed", TypeInformation.of(EncodedRecord.class),
 *         new TextEmbedOperatorFactory(batching, compute, EmbeddingEncoding.OMIT, new OutputEncoder(1 << 20)));
 * }</pre>
 */
public final class TextEmbedOperatorFactory
        extends BatchOperatorFactory<TokenizedText, TokenBatch, RowOutcomes, EncodedRecord> {

    private static final long serialVersionUID = 1L;
    /** The {@code operator} label of its metrics. */
    public static final String METRICS_OPERATOR = "embed";
    /** The {@code modality} label of its metrics. */
    public static final String MODALITY = "text";

    public TextEmbedOperatorFactory(BatchingConfig config, TextBatchCompute compute, EmbeddingEncoding encoding,
            OutputEncoder encoder) {
        super(new TextEmbedCompute<>(config, compute, encoding, encoder),
                new BatchSettings(config.maxWait(), config.maxInFlight(), METRICS_OPERATOR, MODALITY));
    }
}
