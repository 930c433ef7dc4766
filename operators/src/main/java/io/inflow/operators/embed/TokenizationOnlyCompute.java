package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextModel;
import io.inflow.schemas.ModelRef;

/**
 * The compute of the tokenization-only pipeline: the batch already holds the real token ids and counts (written by
 * the batching operator with the model's tokenizer); this step checks the batch and emits no embedding, so enriched
 * events carry the token count and truncation flag only. The encoder replaces it without changing the operator.
 *
 * <p>{@code new TokenizationOnlyCompute(TextModel.ALL_MINILM_L6_V2)}
 */
public final class TokenizationOnlyCompute implements TextBatchCompute {

    private static final long serialVersionUID = 1L;
    /** Model version reported when no model ran: the tokenizer alone. */
    public static final String VERSION = "tokenizer-only";

    private final String modelName;

    public TokenizationOnlyCompute(TextModel tokenizer) {
        this.modelName = tokenizer.modelName();
    }

    @Override
    public void open() {
    }

    @Override
    public ModelRef model() {
        return new ModelRef(modelName, VERSION);
    }

    @Override
    public BatchOutput compute(TokenBatch batch) {
        for (int row = 0; row < batch.rowCount(); row++) {
            int count = batch.tokenCount(row);
            if (count < 1 || count > batch.seqLen()) {
                throw new IllegalStateException("row " + row + " has token_count " + count + " outside 1.."
                        + batch.seqLen());
            }
        }
        return BatchOutput.withoutEmbeddings(batch.rowCount());
    }
}
