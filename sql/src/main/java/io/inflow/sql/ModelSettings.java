package io.inflow.sql;

import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.ResolvedSchema;

import java.io.Serializable;
import java.time.Duration;

/**
 * The validated settings of one {@code inflow} model task, made when the planner resolves {@code ML_PREDICT} (a bad
 * value fails the statement, naming the option or column) and carried to the TaskManagers, where they make the
 * task's {@link BatchedPredictFunction}. One record per task: {@link EmbeddingModelSettings} ({@code text-embedding}),
 * {@link ImageModelSettings} ({@code image-embedding}), {@link ClassificationModelSettings}
 * ({@code text-classification}).
 *
 * <pre>{@code
 * ModelSettings s = ModelSettings.from(modelOptions, inputSchema, outputSchema, session, "job");
 * AsyncPredictFunction f = s.newFunction(64);
 * }</pre>
 */
public sealed interface ModelSettings extends Serializable
        permits EmbeddingModelSettings, ImageModelSettings, ClassificationModelSettings {

    /** The {@code task} option's value. */
    String task();

    /** The model's name in thread names, logs and the metrics' {@code model} label. */
    String modelName();

    /** The metrics' {@code modality} label: {@code text} or {@code image}. */
    String modality();

    /** Most rows per micro-batch ({@code max-records}). */
    int maxRecords();

    /** Longest a row waits for its batch to fill ({@code max-wait}). */
    Duration maxWait();

    /** Whether the process serves Inflow's metrics ({@code inflow.metrics.enabled}). */
    boolean metricsEnabled();

    /** Port or range of the metrics endpoint ({@code inflow.metrics.port}). */
    String metricsPort();

    /** Bind address of the metrics endpoint ({@code inflow.metrics.bind-host}). */
    String metricsHost();

    /** The metrics' {@code job} label. */
    String job();

    /** The task's predict function, computing batches of {@code batchRows} rows. */
    BatchedPredictFunction<?, ?> newFunction(int batchRows);

    /**
     * Validates a model's options and schemas for its {@code task}.
     *
     * @param options the model's {@code WITH} options, already checked by Flink's helper (unknown keys, values that
     *     do not parse)
     * @param session the table configuration: {@code inflow.compute.*}, {@code inflow.cuda.*}, {@code inflow.metrics.*}
     * @throws ValidationException naming the option or column at fault
     */
    static ModelSettings from(ReadableConfig options, ResolvedSchema input, ResolvedSchema output,
            ReadableConfig session, String job) {
        String task = options.get(InflowModelOptions.TASK);
        return switch (task) {
            case InflowModelOptions.TEXT_EMBEDDING -> EmbeddingModelSettings.from(options, input, output, session, job);
            case InflowModelOptions.IMAGE_EMBEDDING -> ImageModelSettings.from(options, input, output, session, job);
            case InflowModelOptions.TEXT_CLASSIFICATION ->
                    ClassificationModelSettings.from(options, input, output, session, job);
            default -> throw new ValidationException("Unsupported 'task' = '" + task + "': the inflow provider"
                    + " supports " + String.join(", ", InflowModelOptions.TASKS.stream().map(t -> "'" + t + "'")
                    .toList()));
        };
    }
}
