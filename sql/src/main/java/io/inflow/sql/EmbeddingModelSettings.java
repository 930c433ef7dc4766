package io.inflow.sql;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.operators.embed.EncoderSpec;
import io.inflow.operators.metrics.MetricsOptions;

import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeFamily;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

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
        boolean metricsEnabled, String metricsPort, String metricsHost, String job) implements Serializable {

    /** Upper bound of {@code max-records} (the batch-size histogram's last bucket is 1024). */
    public static final int MAX_RECORDS_LIMIT = 1024;
    /** Upper bound of {@code max-wait}. */
    public static final Duration MAX_WAIT_LIMIT = Duration.ofMinutes(1);

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
        String task = options.get(InflowModelOptions.TASK);
        if (!InflowModelOptions.TEXT_EMBEDDING.equals(task)) {
            throw new ValidationException("Unsupported 'task' = '" + task + "': the inflow provider supports only '"
                    + InflowModelOptions.TEXT_EMBEDDING + "' for now");
        }
        TextModel model;
        try {
            model = TextModel.byName(options.get(InflowModelOptions.MODEL));
        } catch (IllegalArgumentException e) {
            throw new ValidationException("'model': " + e.getMessage(), e);
        }
        PoolingMode pooling = options.get(InflowModelOptions.POOLING);
        BackendKind backend = options.get(InflowModelOptions.BACKEND);
        int maxRecords = options.get(InflowModelOptions.MAX_RECORDS);
        if (maxRecords < 1 || maxRecords > MAX_RECORDS_LIMIT) {
            throw new ValidationException("'max-records' must be between 1 and " + MAX_RECORDS_LIMIT + " (got "
                    + maxRecords + ")");
        }
        Duration maxWait = options.get(InflowModelOptions.MAX_WAIT);
        if (maxWait.toMillis() < 1 || maxWait.compareTo(MAX_WAIT_LIMIT) > 0) {
            throw new ValidationException("'max-wait' must be between 1 ms and " + MAX_WAIT_LIMIT.toSeconds()
                    + " s (got " + maxWait.toMillis() + " ms)");
        }
        int maxTokens = options.get(InflowModelOptions.MAX_TOKENS);
        if (maxTokens < 2 || maxTokens > TextTokenizer.MAX_SUPPORTED_TOKENS) {
            throw new ValidationException("'max-tokens' must be between 2 and " + TextTokenizer.MAX_SUPPORTED_TOKENS
                    + " (got " + maxTokens + ")");
        }
        checkInput(input);
        checkOutput(output);
        Integer dimension = options.get(InflowModelOptions.DIMENSION);
        if (dimension != null && dimension != model.dimension()) {
            throw new ValidationException("'dimension' is " + dimension + " but model '" + model.modelName()
                    + "' produces " + model.dimension() + "-dimensional embeddings");
        }
        int threads = InflowModelOptions.sessionThreads(session);
        CudaBackendConfig cuda = InflowModelOptions.sessionCuda(session);
        EncoderSpec spec = new EncoderSpec(model, pooling == null ? model.defaultPooling() : pooling,
                options.get(InflowModelOptions.NORMALIZE), HeadType.NONE, null, false, null,
                backend == null ? session.get(InflowModelOptions.SESSION_BACKEND) : backend, threads, maxTokens, cuda);
        try {
            spec.toConfig(); // the encoder's own build-time checks, on the client
        } catch (IllegalArgumentException e) {
            throw new ValidationException("encoder settings: " + e.getMessage(), e);
        }
        MetricsOptions.settings(session); // validates inflow.metrics.port here rather than on the TaskManager
        return new EmbeddingModelSettings(spec, maxTokens, maxRecords, maxWait,
                session.get(MetricsOptions.ENABLED), session.get(MetricsOptions.PORT),
                session.get(MetricsOptions.BIND_HOST), job);
    }

    private static void checkInput(ResolvedSchema input) {
        List<Column> columns = input.getColumns();
        if (columns.size() != 1) {
            throw new ValidationException("text-embedding model input must be exactly one STRING column (the text);"
                    + " got " + describe(columns));
        }
        LogicalType type = columns.get(0).getDataType().getLogicalType();
        if (!type.is(LogicalTypeFamily.CHARACTER_STRING)) {
            throw new ValidationException("text-embedding model input column '" + columns.get(0).getName()
                    + "' must be STRING, got " + type.asSummaryString());
        }
    }

    private static void checkOutput(ResolvedSchema output) {
        List<Column> columns = output.getColumns();
        if (columns.size() != 1) {
            throw new ValidationException("text-embedding model output must be exactly one ARRAY<FLOAT> column (the"
                    + " embedding); got " + describe(columns));
        }
        LogicalType type = columns.get(0).getDataType().getLogicalType();
        if (!(type instanceof ArrayType a) || !a.getElementType().is(LogicalTypeRoot.FLOAT)) {
            throw new ValidationException("text-embedding model output column '" + columns.get(0).getName()
                    + "' must be ARRAY<FLOAT>, got " + type.asSummaryString());
        }
    }

    private static String describe(List<Column> columns) {
        return columns.stream().map(c -> c.getName() + " " + c.getDataType().getLogicalType().asSummaryString())
                .collect(Collectors.joining(", ", "(", ")"));
    }
}
