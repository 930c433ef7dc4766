package io.inflow.jobs.config;

import io.inflow.gpu.head.ClassifierHead;
import io.inflow.gpu.head.ScorerConfig;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.quant.QuantizedTextModels;
import io.inflow.gpu.text.TextModel;
import io.inflow.operators.score.ScorerSpec;
import io.inflow.schemas.ScorerRef;

import org.apache.flink.configuration.ReadableConfig;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads and checks the scorer keys ({@link ScorerOptions}) on the client, before the job is submitted: the scorer
 * loads, was trained on the job's text model, and its integer model file (when given) was quantized from that model
 * at the scorer's token limit. Every failure names the key and what to change.
 *
 * <p>{@code ScorerSpec s = ScorerSettings.from(config, TextModel.ALL_MINILM_L6_V2, 2);   // null when unset}
 */
public final class ScorerSettings {

    private ScorerSettings() {
    }

    /** Whether {@code inflow.text.scorer} names a scorer (unset, empty and {@code none} do not). */
    public static boolean configured(ReadableConfig config) {
        String name = config.getOptional(ScorerOptions.SCORER).map(String::trim).orElse("");
        return !name.isEmpty() && !name.equalsIgnoreCase("none");
    }

    /** The scorer to run, or null when {@code inflow.text.scorer} is unset. */
    public static ScorerSpec from(ReadableConfig config, TextModel model, int threads) {
        if (!configured(config)) {
            return null;
        }
        String name = config.get(ScorerOptions.SCORER).trim();
        String precision = config.get(ScorerOptions.PRECISION).trim().toLowerCase(Locale.ROOT);
        if (!ScorerRef.PRECISIONS.contains(precision)) {
            throw new IllegalArgumentException("'" + ScorerOptions.PRECISION.key() + "' is '"
                    + config.get(ScorerOptions.PRECISION) + "': use float32, int8 or mixed");
        }
        double budget = config.get(ScorerOptions.SIZE_BUDGET);
        if (!(budget >= 0.5 && budget <= 1)) {
            throw new IllegalArgumentException("'" + ScorerOptions.SIZE_BUDGET.key() + "' is " + budget
                    + ": use a share of the INT8 layer size in [0.5, 1] (1 keeps every layer at 8 bits)");
        }
        String file = config.getOptional(ScorerOptions.QUANTIZED_MODEL).orElse(null);
        if (file != null && precision.equals(ScorerRef.FLOAT32)) {
            throw new IllegalArgumentException("'" + ScorerOptions.QUANTIZED_MODEL.key() + "' is set but '"
                    + ScorerOptions.PRECISION.key() + "' is float32: set the precision to int8 or mixed, or unset"
                    + " the file");
        }
        ScorerSpec spec = new ScorerSpec(name, precision, file, config.get(ScorerOptions.CACHE_DIR), budget, threads);
        ClassifierHead head;
        try {
            head = spec.loadHead();
        } catch (Exception e) {
            throw new IllegalArgumentException("'" + ScorerOptions.SCORER.key() + "': cannot load scorer '" + name
                    + "': " + e.getMessage() + " (use spam-ham-minilm or a directory with "
                    + ClassifierHead.SCORER_FILE + " and " + ClassifierHead.WEIGHTS_FILE + ")", e);
        }
        ScorerConfig c = head.config();
        if (!c.encoder().equals(model.modelName())) {
            throw new IllegalArgumentException("'" + ScorerOptions.SCORER.key() + "' " + head.name()
                    + " was trained on " + c.encoder() + " embeddings but '" + PipelineOptions.TEXT_MODEL.key()
                    + "' is " + model.modelName() + ": set " + PipelineOptions.TEXT_MODEL.key() + "=" + c.encoder()
                    + " or pick a scorer trained on " + model.modelName());
        }
        if (head.dimension() != model.dimension()) {
            throw new IllegalArgumentException("'" + ScorerOptions.SCORER.key() + "' " + head.name() + " reads "
                    + head.dimension() + "-value embeddings, " + model.modelName() + " makes " + model.dimension());
        }
        if (spec.integer() && c.pooling() == PoolingMode.MULTI_LAYER_MEAN) {
            throw new IllegalArgumentException("'" + ScorerOptions.PRECISION.key() + "' " + precision + ": the"
                    + " integer encoder pools the last layer only, scorer " + head.name() + " wants MULTI_LAYER_MEAN;"
                    + " use float32");
        }
        if (file != null) {
            try {
                QuantizedTextModels.check(Path.of(file), model, c.maxTokens());
            } catch (Exception e) {
                throw new IllegalArgumentException("'" + ScorerOptions.QUANTIZED_MODEL.key() + "': " + e.getMessage(),
                        e);
            }
        }
        return spec;
    }
}
