package io.inflow.sql;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.operators.metrics.MetricsOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Checks every {@code inflow} model task shares, with messages naming the option or column: batching options,
 * options that belong to another task, the backend's default, the metrics keys and column types.
 *
 * <p>{@code int maxRecords = ModelChecks.maxRecords(options);}
 */
final class ModelChecks {

    /** Upper bound of {@code max-records} (the batch-size histogram's last bucket is 1024). */
    static final int MAX_RECORDS_LIMIT = 1024;
    /** Upper bound of {@code max-wait}. */
    static final Duration MAX_WAIT_LIMIT = Duration.ofMinutes(1);

    /** Every option of the provider besides {@code task}: what {@link #onlyOptions} checks. */
    static final List<ConfigOption<?>> TASK_OPTIONS = List.of(InflowModelOptions.MODEL, InflowModelOptions.MODEL_DIR,
            InflowModelOptions.POOLING, InflowModelOptions.NORMALIZE, InflowModelOptions.BACKEND,
            InflowModelOptions.MAX_RECORDS, InflowModelOptions.MAX_WAIT, InflowModelOptions.MAX_TOKENS,
            InflowModelOptions.DIMENSION, InflowModelOptions.PRECISION, InflowModelOptions.QUANTIZED_MODEL,
            InflowModelOptions.SIZE_BUDGET, InflowModelOptions.CACHE_DIR, InflowModelOptions.HEAD,
            InflowModelOptions.HEAD_WEIGHTS, InflowModelOptions.HEAD_PER_TOKEN, InflowModelOptions.ADAPTER_WEIGHTS);

    private ModelChecks() {
    }

    /** Fails when an option of another task is set, e.g. {@code 'pooling'} on an image model. */
    static void onlyOptions(ReadableConfig options, String task, Set<ConfigOption<?>> allowed) {
        for (ConfigOption<?> o : TASK_OPTIONS) {
            if (!allowed.contains(o) && options.getOptional(o).isPresent()) {
                String own = TASK_OPTIONS.stream().filter(allowed::contains).map(ConfigOption::key)
                        .collect(Collectors.joining(", "));
                throw new ValidationException("'" + o.key() + "' does not apply to 'task' = '" + task + "' (its"
                        + " options: " + own + ")");
            }
        }
    }

    /** {@code model}, which the task needs. */
    static String required(ReadableConfig options, ConfigOption<String> option, String task) {
        return options.getOptional(option).map(String::trim).filter(s -> !s.isEmpty())
                .orElseThrow(() -> new ValidationException("Missing required options for 'task' = '" + task
                        + "': " + option.key()));
    }

    static int maxRecords(ReadableConfig options) {
        int maxRecords = options.get(InflowModelOptions.MAX_RECORDS);
        if (maxRecords < 1 || maxRecords > MAX_RECORDS_LIMIT) {
            throw new ValidationException("'max-records' must be between 1 and " + MAX_RECORDS_LIMIT + " (got "
                    + maxRecords + ")");
        }
        return maxRecords;
    }

    static Duration maxWait(ReadableConfig options) {
        Duration maxWait = options.get(InflowModelOptions.MAX_WAIT);
        if (maxWait.toMillis() < 1 || maxWait.compareTo(MAX_WAIT_LIMIT) > 0) {
            throw new ValidationException("'max-wait' must be between 1 ms and " + MAX_WAIT_LIMIT.toSeconds()
                    + " s (got " + maxWait.toMillis() + " ms)");
        }
        return maxWait;
    }

    /** {@code backend}, else the session's {@code inflow.compute.backend}. */
    static BackendKind backend(ReadableConfig options, ReadableConfig session) {
        BackendKind backend = options.get(InflowModelOptions.BACKEND);
        return backend == null ? session.get(InflowModelOptions.SESSION_BACKEND) : backend;
    }

    /** Validates {@code inflow.metrics.port} here rather than on the TaskManager. */
    static void metrics(ReadableConfig session) {
        MetricsOptions.settings(session);
    }

    /** The model input is one column of the wanted type; returns it. */
    static Column singleInput(ResolvedSchema input, String task, String typeName, String what,
            Predicate<LogicalType> ok) {
        List<Column> columns = input.getColumns();
        if (columns.size() != 1) {
            throw new ValidationException(task + " model input must be exactly one " + typeName + " column (" + what
                    + "); got " + describe(columns));
        }
        LogicalType type = columns.get(0).getDataType().getLogicalType();
        if (!ok.test(type)) {
            throw new ValidationException(task + " model input column '" + columns.get(0).getName() + "' must be "
                    + typeName + ", got " + type.asSummaryString());
        }
        return columns.get(0);
    }

    /** Fails unless output column {@code c} has the type {@code ok} accepts. */
    static void outputColumn(String task, Column c, String typeName, Predicate<LogicalType> ok) {
        LogicalType type = c.getDataType().getLogicalType();
        if (!ok.test(type)) {
            throw new ValidationException(task + " model output column '" + c.getName() + "' must be " + typeName
                    + ", got " + type.asSummaryString());
        }
    }

    static boolean floatArray(LogicalType type) {
        return type instanceof ArrayType a && a.getElementType().is(LogicalTypeRoot.FLOAT);
    }

    static String describe(List<Column> columns) {
        return columns.stream().map(c -> c.getName() + " " + c.getDataType().getLogicalType().asSummaryString())
                .collect(Collectors.joining(", ", "(", ")"));
    }
}
