package io.inflow.sql;

import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.head.HeadConfig;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.head.Heads;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.operators.embed.EncoderSpec;
import io.inflow.operators.metrics.MetricsOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.LogicalTypeFamily;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A text-embedding model's settings, checked when the planner resolves {@code ML_PREDICT} (a bad value fails the
 * statement with a message naming the option, before any task starts), then carried to the TaskManagers.
 *
 * <p>{@code EmbeddingModelSettings s = EmbeddingModelSettings.from(modelOptions, inputSchema, outputSchema, session, "job");}
 *
 * @param spec the encoder, exactly as the DataStream pipeline builds it (equal specs share one encoder per process)
 * @param maxTokens tokenizer limit; longer texts are truncated
 * @param maxRecords most rows per micro-batch
 * @param maxWait longest a row waits for its batch to fill
 * @param metricsEnabled whether the process serves Inflow's metrics ({@code inflow.metrics.enabled})
 * @param metricsPort port or range of the metrics endpoint ({@code inflow.metrics.port})
 * @param metricsHost bind address of the metrics endpoint ({@code inflow.metrics.bind-host})
 * @param job the {@code job} label of the metrics
 */
public record EmbeddingModelSettings(EncoderSpec spec, int maxTokens, int maxRecords, Duration maxWait,
        boolean metricsEnabled, String metricsPort, String metricsHost, String job) implements ModelSettings {

    /** Upper bound of {@code max-records} (the batch-size histogram's last bucket is 1024). */
    public static final int MAX_RECORDS_LIMIT = ModelChecks.MAX_RECORDS_LIMIT;
    /** Upper bound of {@code max-wait}. */
    public static final Duration MAX_WAIT_LIMIT = ModelChecks.MAX_WAIT_LIMIT;
    /** The options of this task. */
    static final Set<ConfigOption<?>> OPTIONS = Set.of(InflowModelOptions.MODEL, InflowModelOptions.POOLING,
            InflowModelOptions.NORMALIZE, InflowModelOptions.BACKEND, InflowModelOptions.MAX_RECORDS,
            InflowModelOptions.MAX_WAIT, InflowModelOptions.MAX_TOKENS, InflowModelOptions.DIMENSION,
            InflowModelOptions.HEAD, InflowModelOptions.HEAD_WEIGHTS, InflowModelOptions.HEAD_PER_TOKEN,
            InflowModelOptions.ADAPTER_WEIGHTS);

    /**
     * Validates the model's options and schemas.
     *
     * @param options the model's {@code WITH} options, already checked by Flink's helper (required and unknown keys,
     *     values that do not parse: its messages name the option and, for enums, the allowed values)
     * @param session the table configuration: {@code inflow.compute.*}, {@code inflow.cuda.*}, {@code inflow.metrics.*}
     * @throws ValidationException naming the option or column at fault
     */
    public static EmbeddingModelSettings from(ReadableConfig options, ResolvedSchema input, ResolvedSchema output,
            ReadableConfig session, String job) {
        String task = InflowModelOptions.TEXT_EMBEDDING;
        ModelChecks.onlyOptions(options, task, OPTIONS);
        TextModel model;
        try {
            model = TextModel.byName(ModelChecks.required(options, InflowModelOptions.MODEL, task));
        } catch (IllegalArgumentException e) {
            throw new ValidationException("'model': " + e.getMessage(), e);
        }
        PoolingMode pooling = options.get(InflowModelOptions.POOLING);
        int maxRecords = ModelChecks.maxRecords(options);
        Duration maxWait = ModelChecks.maxWait(options);
        int maxTokens = options.get(InflowModelOptions.MAX_TOKENS);
        if (maxTokens < 2 || maxTokens > TextTokenizer.MAX_SUPPORTED_TOKENS) {
            throw new ValidationException("'max-tokens' must be between 2 and " + TextTokenizer.MAX_SUPPORTED_TOKENS
                    + " (got " + maxTokens + ")");
        }
        ModelChecks.singleInput(input, task, "STRING", "the text", t -> t.is(LogicalTypeFamily.CHARACTER_STRING));
        checkOutput(output);
        HeadType head = options.getOptional(InflowModelOptions.HEAD).orElse(HeadType.NONE);
        String headWeights = options.getOptional(InflowModelOptions.HEAD_WEIGHTS).orElse(null);
        String adapter = options.getOptional(InflowModelOptions.ADAPTER_WEIGHTS).orElse(null);
        int width = embeddingWidth(model, head, headWeights, adapter);
        Integer dimension = options.get(InflowModelOptions.DIMENSION);
        if (dimension != null && dimension != width) {
            throw new ValidationException("'dimension' is " + dimension + " but model '" + model.modelName() + "'"
                    + (head == HeadType.NONE ? "" : " with its " + head + " head") + " produces " + width
                    + "-dimensional embeddings");
        }
        int threads = InflowModelOptions.sessionThreads(session);
        CudaBackendConfig cuda = InflowModelOptions.sessionCuda(session);
        EncoderSpec spec = new EncoderSpec(model, pooling == null ? model.defaultPooling() : pooling,
                options.get(InflowModelOptions.NORMALIZE), head, headWeights,
                options.get(InflowModelOptions.HEAD_PER_TOKEN), adapter,
                ModelChecks.backend(options, session), threads, maxTokens, cuda);
        try {
            spec.toConfig(); // the encoder's own build-time checks, on the client
        } catch (IllegalArgumentException e) {
            throw new ValidationException("encoder settings: " + e.getMessage(), e);
        }
        ModelChecks.metrics(session);
        return new EmbeddingModelSettings(spec, maxTokens, maxRecords, maxWait,
                session.get(MetricsOptions.ENABLED), session.get(MetricsOptions.PORT),
                session.get(MetricsOptions.BIND_HOST), job);
    }

    @Override
    public String task() {
        return InflowModelOptions.TEXT_EMBEDDING;
    }

    @Override
    public String modelName() {
        return spec.model().modelName();
    }

    @Override
    public String modality() {
        return "text";
    }

    @Override
    public EmbeddingPredictFunction newFunction(int batchRows) {
        return new EmbeddingPredictFunction(this, batchRows);
    }

    /**
     * The width of the embeddings: the model's, or the projection head's output read from its weights file (as
     * {@code PipelineSettings} sizes the DataStream job's); checks the head and adapter files can be read here, not
     * first on a TaskManager.
     */
    private static int embeddingWidth(TextModel model, HeadType head, String headWeights, String adapter) {
        if (head == HeadType.LOW_RANK_ADAPTER) {
            throw new ValidationException("'head' = 'LOW_RANK_ADAPTER': give the adapter as 'adapter-weights'"
                    + " (it is applied after the head) and set 'head' to NONE, LINEAR, FFN or GLU");
        }
        if (head != HeadType.NONE && headWeights == null) {
            throw new ValidationException("'head' is " + head + " but 'head-weights' is not set: give the head's"
                    + " safetensors file");
        }
        if (head == HeadType.NONE && headWeights != null) {
            throw new ValidationException("'head-weights' is set but 'head' is not: set 'head' to LINEAR, FFN or"
                    + " GLU, or drop 'head-weights'");
        }
        if (adapter != null && !Files.isReadable(Path.of(adapter))) {
            throw new ValidationException("'adapter-weights': cannot read " + adapter);
        }
        if (head == HeadType.NONE) {
            return model.dimension();
        }
        try {
            return Heads.outDim(HeadConfig.of(head, Path.of(headWeights)));
        } catch (IOException | RuntimeException e) {
            throw new ValidationException("'head-weights': cannot read the " + head + " head's output width from "
                    + headWeights + ": " + e.getMessage(), e);
        }
    }

    private static void checkOutput(ResolvedSchema output) {
        List<Column> columns = output.getColumns();
        if (columns.size() != 1) {
            throw new ValidationException("text-embedding model output must be exactly one ARRAY<FLOAT> column (the"
                    + " embedding); got " + ModelChecks.describe(columns));
        }
        ModelChecks.outputColumn("text-embedding", columns.get(0), "ARRAY<FLOAT>", ModelChecks::floatArray);
    }
}
