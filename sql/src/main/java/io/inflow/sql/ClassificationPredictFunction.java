package io.inflow.sql;

import io.inflow.schemas.ErrorKind;

import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;

import java.util.List;

/**
 * {@code ML_PREDICT} for a {@code text-classification} model: micro-batches of texts ({@link BatchedPredictFunction})
 * are scored by the DataStream pipeline's {@code TextScorer} ({@link TextClassifier}); each row gets its top label
 * and that label's probability.
 *
 * <p>Bad rows never fail the job: a NULL text gets NULL outputs at once; a text whose probabilities are not finite
 * ({@code non_finite_output}) or that fails alone after bisection ({@code compute_failed}) gets NULL outputs and is
 * counted in {@code inflow_dead_letters_total{operator="ml-predict"}}. Texts over the scorer's token limit are
 * truncated ({@code inflow_truncated_records_total}).
 *
 * <p>Created by {@link InflowModelProvider}: {@code new ClassificationPredictFunction(settings, 64)}.
 */
public final class ClassificationPredictFunction extends BatchedPredictFunction<String, TextClassifier> {

    private static final long serialVersionUID = 1L;

    private final ClassificationModelSettings settings;

    public ClassificationPredictFunction(ClassificationModelSettings settings, int batchRows) {
        super(settings, batchRows, 2);
        this.settings = settings;
    }

    @Override
    protected TextClassifier openModel(String name) throws Exception {
        return TextClassifier.open(settings, name);
    }

    @Override
    protected String version(TextClassifier model) {
        return model.version();
    }

    @Override
    protected String backend(TextClassifier model) {
        return settings.encoder().backend().name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    protected String input(RowData row) {
        return row.isNullAt(0) ? null : row.getString(0).toString();
    }

    @Override
    protected Answers compute(TextClassifier model, List<String> texts) throws Exception {
        TextClassifier.Result result = model.classify(texts);
        RowData[] rows = new RowData[texts.size()];
        ErrorKind[] rejected = new ErrorKind[texts.size()];
        for (int r = 0; r < rows.length; r++) {
            if (result.labels()[r] == null) {
                rejected[r] = ErrorKind.NON_FINITE_OUTPUT;
            } else {
                rows[r] = GenericRowData.of(StringData.fromString(result.labels()[r]), result.scores()[r]);
            }
        }
        return new Answers(rows, rejected, result.realTokens(), result.paddedTokens(), result.truncated());
    }
}
