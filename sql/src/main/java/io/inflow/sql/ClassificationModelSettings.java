package io.inflow.sql;

import io.inflow.gpu.head.ClassifierHead;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.head.ScorerConfig;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.quant.QuantizedTextModels;
import io.inflow.gpu.text.TextModel;
import io.inflow.operators.embed.EncoderSpec;
import io.inflow.operators.metrics.MetricsOptions;
import io.inflow.operators.score.ScorerSpec;
import io.inflow.schemas.ScorerRef;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.LogicalTypeFamily;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A {@code text-classification} model's settings, checked when the planner resolves {@code ML_PREDICT}: the
 * DataStream pipeline's scorer ({@code TextScorer}: a {@link ScorerSpec}, float32 / int8 / mixed, with the same
 * defaults as {@code inflow.text.scorer.*}) on the texts, tokenized by its encoder's tokenizer at the scorer's token
 * limit; the answer is the top label and its probability.
 *
 * <pre>{@code
 * CREATE MODEL spam INPUT (text STRING) OUTPUT (label STRING, score FLOAT)
 * WITH ('provider' = 'inflow', 'task' = 'text-classification', 'model' = 'spam-ham-minilm', 'precision' = 'int8');
 * }</pre>
 *
 * @param scorer the scorer, as {@code ScorerSettings} builds it for the DataStream job
 * @param encoder the scorer's encoder (its text model, pooling, normalisation and token limit) on the chosen backend:
 *     the "job" encoder {@code TextScorer.open} takes
 * @param scorerName the scorer's name from its {@code scorer.json} (the metrics' {@code model} label)
 * @param maxTokens the scorer's token limit: longer texts are truncated
 * @param maxRecords most rows per micro-batch
 * @param maxWait longest a row waits for its batch to fill
 * @param metricsEnabled whether the process serves Inflow's metrics
 * @param metricsPort port or range of the metrics endpoint
 * @param metricsHost bind address of the metrics endpoint
 * @param job the {@code job} label of the metrics
 */
public record ClassificationModelSettings(ScorerSpec scorer, EncoderSpec encoder, String scorerName, int maxTokens,
        int maxRecords, Duration maxWait, boolean metricsEnabled, String metricsPort, String metricsHost, String job)
        implements ModelSettings {

    private static final String TASK = InflowModelOptions.TEXT_CLASSIFICATION;
    /** The options of this task. */
    static final Set<ConfigOption<?>> OPTIONS = Set.of(InflowModelOptions.MODEL, InflowModelOptions.PRECISION,
            InflowModelOptions.QUANTIZED_MODEL, InflowModelOptions.SIZE_BUDGET, InflowModelOptions.CACHE_DIR,
            InflowModelOptions.BACKEND, InflowModelOptions.MAX_RECORDS, InflowModelOptions.MAX_WAIT);

    /**
     * Validates the options and schemas of a {@code text-classification} model; loads the scorer's head (small) to
     * check it.
     *
     * @throws ValidationException naming the option or column at fault
     */
    public static ClassificationModelSettings from(ReadableConfig options, ResolvedSchema input, ResolvedSchema output,
            ReadableConfig session, String job) {
        ModelChecks.onlyOptions(options, TASK, OPTIONS);
        String name = ModelChecks.required(options, InflowModelOptions.MODEL, TASK);
        String precision = options.get(InflowModelOptions.PRECISION).trim().toLowerCase(Locale.ROOT);
        if (!ScorerRef.PRECISIONS.contains(precision)) {
            throw new ValidationException("'precision' is '" + options.get(InflowModelOptions.PRECISION)
                    + "': use float32, int8 or mixed");
        }
        double budget = options.get(InflowModelOptions.SIZE_BUDGET);
        if (!(budget >= 0.5 && budget <= 1)) {
            throw new ValidationException("'size-budget' is " + budget + ": use a share of the INT8 layer size in"
                    + " [0.5, 1] (1 keeps every layer at 8 bits)");
        }
        String file = options.getOptional(InflowModelOptions.QUANTIZED_MODEL).map(String::trim).orElse(null);
        if (file != null && precision.equals(ScorerRef.FLOAT32)) {
            throw new ValidationException("'quantized-model' is set but 'precision' is float32: set the precision to"
                    + " int8 or mixed, or drop the file");
        }
        int maxRecords = ModelChecks.maxRecords(options);
        Duration maxWait = ModelChecks.maxWait(options);
        ModelChecks.singleInput(input, TASK, "STRING", "the text", t -> t.is(LogicalTypeFamily.CHARACTER_STRING));
        checkOutput(output);
        int threads = InflowModelOptions.sessionThreads(session);
        ScorerSpec scorer = new ScorerSpec(name, precision, file, options.get(InflowModelOptions.CACHE_DIR), budget,
                threads);
        ClassifierHead head;
        try {
            head = scorer.loadHead();
        } catch (Exception e) {
            throw new ValidationException("'model': cannot load scorer '" + name + "': " + e.getMessage() + " (use"
                    + " spam-ham-minilm or a directory with " + ClassifierHead.SCORER_FILE + " and "
                    + ClassifierHead.WEIGHTS_FILE + ")", e);
        }
        ScorerConfig c = head.config();
        TextModel model;
        try {
            model = TextModel.byName(c.encoder());
        } catch (IllegalArgumentException e) {
            throw new ValidationException("'model': scorer " + head.name() + " reads embeddings of '" + c.encoder()
                    + "', which is not a bundled text model: " + e.getMessage(), e);
        }
        if (head.dimension() != model.dimension()) {
            throw new ValidationException("'model': scorer " + head.name() + " reads " + head.dimension()
                    + "-value embeddings, " + model.modelName() + " makes " + model.dimension());
        }
        if (scorer.integer() && c.pooling() == PoolingMode.MULTI_LAYER_MEAN) {
            throw new ValidationException("'precision' " + precision + ": the integer encoder pools the last layer"
                    + " only, scorer " + head.name() + " wants MULTI_LAYER_MEAN; use float32");
        }
        if (file != null) {
            try {
                QuantizedTextModels.check(Path.of(file), model, c.maxTokens());
            } catch (Exception e) {
                throw new ValidationException("'quantized-model': " + e.getMessage(), e);
            }
        }
        EncoderSpec encoder = new EncoderSpec(model, c.pooling(), c.normalize(), HeadType.NONE, null, false, null,
                ModelChecks.backend(options, session), threads, c.maxTokens(), InflowModelOptions.sessionCuda(session));
        try {
            encoder.toConfig();
        } catch (IllegalArgumentException e) {
            throw new ValidationException("encoder settings: " + e.getMessage(), e);
        }
        ModelChecks.metrics(session);
        return new ClassificationModelSettings(scorer, encoder, head.name(), c.maxTokens(), maxRecords, maxWait,
                session.get(MetricsOptions.ENABLED), session.get(MetricsOptions.PORT),
                session.get(MetricsOptions.BIND_HOST), job);
    }

    /** {@code (label STRING, score FLOAT)}. */
    private static void checkOutput(ResolvedSchema output) {
        List<Column> columns = output.getColumns();
        if (columns.size() != 2) {
            throw new ValidationException(TASK + " model output must be (label STRING, score FLOAT); got "
                    + ModelChecks.describe(columns));
        }
        ModelChecks.outputColumn(TASK, columns.get(0), "STRING", t -> t.is(LogicalTypeFamily.CHARACTER_STRING));
        ModelChecks.outputColumn(TASK, columns.get(1), "FLOAT", t -> t.is(LogicalTypeRoot.FLOAT));
    }

    @Override
    public String task() {
        return TASK;
    }

    @Override
    public String modelName() {
        return scorerName;
    }

    @Override
    public String modality() {
        return "text";
    }

    @Override
    public ClassificationPredictFunction newFunction(int batchRows) {
        return new ClassificationPredictFunction(this, batchRows);
    }
}
