package io.inflow.sql;

import io.inflow.schemas.ErrorKind;

import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;

import java.util.List;

/**
 * {@code ML_PREDICT} for a {@code text-embedding} model: micro-batches of texts ({@link BatchedPredictFunction}) are
 * embedded by the DataStream pipeline's compute ({@link TextEmbedder}); each row gets its {@code ARRAY<FLOAT>}.
 *
 * <p>Bad rows never fail the job: a NULL text gets a NULL embedding at once; a text whose vector is not finite
 * ({@code non_finite_output}), or that fails alone after its batch failed and was bisected ({@code compute_failed}),
 * gets a NULL embedding and is counted in {@code inflow_dead_letters_total{operator="ml-predict"}}. Texts over
 * {@code max-tokens} are truncated ({@code inflow_truncated_records_total}).
 *
 * <p>Created by {@link InflowModelProvider}: {@code new EmbeddingPredictFunction(settings, 64)}.
 */
public final class EmbeddingPredictFunction extends BatchedPredictFunction<String, TextEmbedder> {

    private static final long serialVersionUID = 1L;

    private final EmbeddingModelSettings settings;

    /**
     * @param batchRows rows per micro-batch: {@code max-records}, lowered to the rows Flink keeps in flight when
     *     that is smaller
     */
    public EmbeddingPredictFunction(EmbeddingModelSettings settings, int batchRows) {
        super(settings, batchRows, 1);
        this.settings = settings;
    }

    @Override
    protected TextEmbedder openModel(String name) throws Exception {
        return TextEmbedder.open(settings, name);
    }

    @Override
    protected String version(TextEmbedder model) {
        return model.version();
    }

    @Override
    protected String backend(TextEmbedder model) {
        return model.backend();
    }

    @Override
    protected String input(RowData row) {
        return row.isNullAt(0) ? null : row.getString(0).toString();
    }

    @Override
    protected Answers compute(TextEmbedder model, List<String> texts) throws Exception {
        TextEmbedder.Result result = model.embed(texts);
        RowData[] rows = new RowData[texts.size()];
        ErrorKind[] rejected = new ErrorKind[texts.size()];
        for (int r = 0; r < rows.length; r++) {
            float[] v = result.embeddings()[r];
            if (v == null) {
                rejected[r] = ErrorKind.NON_FINITE_OUTPUT;
            } else {
                rows[r] = GenericRowData.of(new GenericArrayData(v));
            }
        }
        return new Answers(rows, rejected, result.realTokens(), result.paddedTokens(), result.truncated());
    }
}
