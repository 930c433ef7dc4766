package io.inflow.sql;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.table.api.config.ExecutionConfigOptions;
import org.apache.flink.table.api.config.MLPredictRuntimeConfigOptions;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.ModelProvider;

/**
 * The runtime side of an {@code inflow} model: an async provider only (the rows of concurrent calls are what a
 * micro-batch is made of, so a synchronous, one-row-at-a-time function would defeat it).
 *
 * <p>Made by {@link InflowModelProviderFactory}: {@code new InflowModelProvider(settings, 10)}.
 */
public final class InflowModelProvider implements AsyncPredictRuntimeProvider {

    private final ModelSettings settings;
    private final int sessionInFlight;

    /**
     * @param sessionInFlight the session's {@code table.exec.async-ml-predict.max-concurrent-operations}: the most
     *     rows Flink keeps in flight per subtask, unless the query's {@code ML_PREDICT} config map sets its own
     */
    public InflowModelProvider(ModelSettings settings, int sessionInFlight) {
        this.settings = settings;
        this.sessionInFlight = sessionInFlight;
    }

    /** The validated settings. */
    public ModelSettings settings() {
        return settings;
    }

    @Override
    public AsyncPredictFunction createAsyncPredictFunction(Context context) {
        ConfigOption<Integer> perQuery = MLPredictRuntimeConfigOptions.ASYNC_MAX_CONCURRENT_OPERATIONS;
        int inFlight = context.runtimeConfig().getOptional(perQuery).orElse(sessionInFlight);
        return settings.newFunction(Math.max(1, Math.min(settings.maxRecords(), inFlight)));
    }

    /** The session's in-flight limit for async ML_PREDICT. */
    static ConfigOption<Integer> sessionInFlightOption() {
        return ExecutionConfigOptions.TABLE_EXEC_ASYNC_ML_PREDICT_MAX_CONCURRENT_OPERATIONS;
    }

    @Override
    public ModelProvider copy() {
        return new InflowModelProvider(settings, sessionInFlight);
    }
}
