package io.inflow.jobs.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Flink configuration keys of the text scorer: a classification model (encoder + head) run on every text after
 * embedding; enriched events then carry {@code scores} and {@code scorer} (name, version, precision). Validated at
 * start by {@link ScorerSettings}.
 *
 * <pre>
 * -Dinflow.text.scorer=spam-ham-minilm -Dinflow.text.scorer.precision=int8
 * </pre>
 */
public final class ScorerOptions {

    public static final ConfigOption<String> SCORER = ConfigOptions.key("inflow.text.scorer")
            .stringType().noDefaultValue()
            .withDescription("The scorer: a bundled one (spam-ham-minilm: spam/ham on all-minilm-l6-v2 embeddings)"
                    + " or a directory holding scorer.json and head.safetensors. Unset: no scores.");

    public static final ConfigOption<String> PRECISION = ConfigOptions.key("inflow.text.scorer.precision")
            .stringType().defaultValue("float32")
            .withDescription("float32 (reuses the job's embeddings when the scorer's encoder settings match them),"
                    + " int8 (the integer-only encoder: INT8 weights and activations, no float inside) or mixed"
                    + " (INT4/INT8 layers chosen by importance under inflow.text.scorer.size-budget).");

    public static final ConfigOption<String> QUANTIZED_MODEL = ConfigOptions
            .key("inflow.text.scorer.quantized-model").stringType().noDefaultValue()
            .withDescription("int8/mixed: the model.safetensors written by ./inflow quantize (its --model and"
                    + " --max-tokens must match the scorer's encoder). Unset: the encoder is quantized on the bundled"
                    + " calibration texts once per machine into inflow.text.scorer.cache-dir (about 20 s on 2 cores).");

    public static final ConfigOption<String> CACHE_DIR = ConfigOptions.key("inflow.text.scorer.cache-dir")
            .stringType().defaultValue(System.getProperty("java.io.tmpdir") + "/inflow-quantized")
            .withDescription("Where integer models quantized at start are kept (one directory per model, precision"
                    + " and token limit; safe to delete).");

    public static final ConfigOption<Double> SIZE_BUDGET = ConfigOptions.key("inflow.text.scorer.size-budget")
            .doubleType().defaultValue(0.85)
            .withDescription("mixed only: the encoder layers' weights at most this share of their INT8 size, 0.5..1"
                    + " (0.85 on MiniLM: two of six layers at 4 bits).");

    private ScorerOptions() {
    }
}
