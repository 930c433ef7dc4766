package io.inflow.sql;

import io.inflow.gpu.encoder.vit.VitConfig;
import io.inflow.operators.batch.ImageBatchingOptions;
import io.inflow.operators.embed.ImageEncoderSpec;
import io.inflow.operators.image.ImageDecodeSpec;
import io.inflow.operators.metrics.MetricsOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.LogicalTypeFamily;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * An {@code image-embedding} model's settings, checked when the planner resolves {@code ML_PREDICT}: the encoded image
 * (one BYTES column) goes through the DataStream pipeline's safe decoder ({@code ImageDecoder}, its default limits)
 * and its ViT ({@code VitCompute} on an {@link ImageEncoderSpec}); the answer is the embedding and, when the output
 * asks for it, the classifier's top-1 class and its probability.
 *
 * <pre>{@code
 * CREATE MODEL vit INPUT (image BYTES) OUTPUT (embedding ARRAY<FLOAT>, label STRING, score FLOAT)
 * WITH ('provider' = 'inflow', 'task' = 'image-embedding', 'model' = 'vit-fashion-mnist');
 * }</pre>
 *
 * @param spec the encoder, as the DataStream pipeline builds it (equal specs share one encoder per process)
 * @param decode the decoder's limits (inline images only)
 * @param classify whether the output has the {@code label} and {@code score} columns
 * @param maxPixelBytes decoded sample bytes per ViT call; a batch holding more is computed in parts
 * @param maxRecords most rows per micro-batch
 * @param maxWait longest a row waits for its batch to fill
 * @param metricsEnabled whether the process serves Inflow's metrics
 * @param metricsPort port or range of the metrics endpoint
 * @param metricsHost bind address of the metrics endpoint
 * @param job the {@code job} label of the metrics
 */
public record ImageModelSettings(ImageEncoderSpec spec, ImageDecodeSpec decode, boolean classify, long maxPixelBytes,
        int maxRecords, Duration maxWait, boolean metricsEnabled, String metricsPort, String metricsHost, String job)
        implements ModelSettings {

    private static final String TASK = InflowModelOptions.IMAGE_EMBEDDING;
    /** The options of this task. */
    static final Set<ConfigOption<?>> OPTIONS = Set.of(InflowModelOptions.MODEL, InflowModelOptions.MODEL_DIR,
            InflowModelOptions.NORMALIZE, InflowModelOptions.BACKEND, InflowModelOptions.MAX_RECORDS,
            InflowModelOptions.MAX_WAIT, InflowModelOptions.DIMENSION);

    /**
     * Validates the options and schemas of an {@code image-embedding} model.
     *
     * @throws ValidationException naming the option or column at fault
     */
    public static ImageModelSettings from(ReadableConfig options, ResolvedSchema input, ResolvedSchema output,
            ReadableConfig session, String job) {
        ModelChecks.onlyOptions(options, TASK, OPTIONS);
        Optional<String> model = options.getOptional(InflowModelOptions.MODEL).map(String::trim);
        Optional<String> dir = options.getOptional(InflowModelOptions.MODEL_DIR).map(String::trim);
        if (model.isPresent() && dir.isPresent()) {
            throw new ValidationException("'model' and 'model-dir' are both set: use 'model' = '"
                    + ImageEncoderSpec.BUNDLED_MODEL_NAME + "' for the bundled ViT or 'model-dir' for your own");
        }
        if (model.isEmpty() && dir.isEmpty()) {
            throw new ValidationException("Missing required options for 'task' = '" + TASK + "': model ('"
                    + ImageEncoderSpec.BUNDLED_MODEL_NAME + "') or model-dir");
        }
        if (model.isPresent() && !model.get().equals(ImageEncoderSpec.BUNDLED_MODEL_NAME)) {
            throw new ValidationException("'model': unknown image model '" + model.get() + "'; bundled: "
                    + ImageEncoderSpec.BUNDLED_MODEL_NAME + " (or set 'model-dir' to a ViT / CLIP-vision directory)");
        }
        int maxRecords = ModelChecks.maxRecords(options);
        Duration maxWait = ModelChecks.maxWait(options);
        ModelChecks.singleInput(input, TASK, "BYTES", "the encoded image", t -> t.is(LogicalTypeFamily.BINARY_STRING));
        VitConfig vit = dir.isPresent() ? readDir(dir.get()) : readBundled();
        String name = dir.map(d -> Path.of(d).toAbsolutePath().normalize().getFileName().toString())
                .orElse(ImageEncoderSpec.BUNDLED_MODEL_NAME);
        boolean classify = checkOutput(output, vit, name);
        Integer dimension = options.get(InflowModelOptions.DIMENSION);
        if (dimension != null && dimension != vit.hidden()) {
            throw new ValidationException("'dimension' is " + dimension + " but model '" + name + "' produces "
                    + vit.hidden() + "-dimensional embeddings");
        }
        ImageEncoderSpec spec;
        try {
            spec = new ImageEncoderSpec(dir.map(d -> Path.of(d).toAbsolutePath().normalize().toString()).orElse(null),
                    dir.isPresent() ? null : ImageEncoderSpec.BUNDLED_MODEL, name,
                    options.get(InflowModelOptions.NORMALIZE), ModelChecks.backend(options, session),
                    InflowModelOptions.sessionThreads(session), InflowModelOptions.sessionCuda(session));
            spec.toConfig(); // the encoder's own build-time checks, on the client
        } catch (IllegalArgumentException e) {
            throw new ValidationException("encoder settings: " + e.getMessage(), e);
        }
        ModelChecks.metrics(session);
        return new ImageModelSettings(spec, ImageDecodeSpec.defaults(null), classify,
                ImageBatchingOptions.MAX_PIXEL_BYTES.defaultValue(), maxRecords, maxWait,
                session.get(MetricsOptions.ENABLED), session.get(MetricsOptions.PORT),
                session.get(MetricsOptions.BIND_HOST), job);
    }

    private static VitConfig readDir(String dir) {
        Path d = Path.of(dir);
        if (!Files.isDirectory(d)) {
            throw new ValidationException("'model-dir' = '" + dir + "' is not a directory (it needs config.json and"
                    + " model.safetensors of a Hugging Face ViT or CLIP-vision model)");
        }
        if (!Files.isRegularFile(d.resolve("model.safetensors"))) {
            throw new ValidationException("'model-dir' = '" + dir + "' has no model.safetensors");
        }
        try {
            return VitConfig.read(d.resolve("config.json"));
        } catch (IOException | RuntimeException e) {
            throw new ValidationException("'model-dir': " + e.getMessage(), e);
        }
    }

    private static VitConfig readBundled() {
        String resource = ImageEncoderSpec.BUNDLED_MODEL + "/config.json";
        try (InputStream in = ImageModelSettings.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new ValidationException("'model': the bundled " + ImageEncoderSpec.BUNDLED_MODEL_NAME
                        + " is not on the classpath (" + resource + "; put inflow-gpu's jar there)");
            }
            return VitConfig.read(in, resource);
        } catch (IOException e) {
            throw new ValidationException("'model': " + e.getMessage(), e);
        }
    }

    /** {@code (embedding ARRAY<FLOAT>)} or {@code (embedding ARRAY<FLOAT>, label STRING, score FLOAT)}. */
    private static boolean checkOutput(ResolvedSchema output, VitConfig vit, String model) {
        List<Column> columns = output.getColumns();
        if (columns.size() != 1 && columns.size() != 3) {
            throw new ValidationException(TASK + " model output must be (embedding ARRAY<FLOAT>) or (embedding"
                    + " ARRAY<FLOAT>, label STRING, score FLOAT); got " + ModelChecks.describe(columns));
        }
        ModelChecks.outputColumn(TASK, columns.get(0), "ARRAY<FLOAT>", ModelChecks::floatArray);
        if (columns.size() == 1) {
            return false;
        }
        ModelChecks.outputColumn(TASK, columns.get(1), "STRING", t -> t.is(LogicalTypeFamily.CHARACTER_STRING));
        ModelChecks.outputColumn(TASK, columns.get(2), "FLOAT", t -> t.is(LogicalTypeRoot.FLOAT));
        if (vit.numLabels() == 0) {
            throw new ValidationException(TASK + " model output column '" + columns.get(1).getName() + "' needs a"
                    + " classifier, but model '" + model + "' has none (no id2label in its config.json): drop the"
                    + " label and score columns");
        }
        return true;
    }

    @Override
    public String task() {
        return TASK;
    }

    @Override
    public String modelName() {
        return spec.modelName();
    }

    @Override
    public String modality() {
        return "image";
    }

    @Override
    public ImagePredictFunction newFunction(int batchRows) {
        return new ImagePredictFunction(this, batchRows);
    }
}
