package io.inflow.operators.metrics;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Where each process serves Inflow's metrics ({@link InflowMetrics}). Set them in the TaskManagers' Flink
 * configuration (or the job's, which MiniCluster shares): like Flink's {@code metrics.reporter.prom.port}, a range
 * lets several TaskManagers on one host each take the next free port.
 *
 * <pre>{@code
 * inflow.metrics.port: 9260-9269
 * inflow.metrics.bind-host: 0.0.0.0
 * }</pre>
 */
public final class MetricsOptions {

    public static final ConfigOption<Boolean> ENABLED = ConfigOptions.key("inflow.metrics.enabled")
            .booleanType().defaultValue(true)
            .withDescription("Serve Inflow's operator metrics over HTTP (/metrics) in every process that runs an"
                    + " Inflow operator.");

    public static final ConfigOption<String> PORT = ConfigOptions.key("inflow.metrics.port")
            .stringType().defaultValue("9260-9269")
            .withDescription("Port or range (e.g. 9260-9269) of the Inflow metrics endpoint; each process takes the"
                    + " first free one. 0 picks any free port.");

    public static final ConfigOption<String> BIND_HOST = ConfigOptions.key("inflow.metrics.bind-host")
            .stringType().defaultValue("0.0.0.0")
            .withDescription("Address the Inflow metrics endpoint binds to (127.0.0.1 for loopback only).");

    private MetricsOptions() {
    }

    /**
     * The endpoint settings, validated: each key from the first configuration that sets it (operators pass the
     * TaskManager's configuration, then the job's), else its default.
     */
    public static MetricsEndpoint.Settings settings(ReadableConfig... layers) {
        return MetricsEndpoint.Settings.parse(get(ENABLED, layers), get(PORT, layers), get(BIND_HOST, layers));
    }

    private static <T> T get(ConfigOption<T> option, ReadableConfig... layers) {
        for (ReadableConfig c : layers) {
            if (c != null) {
                java.util.Optional<T> v = c.getOptional(option);
                if (v.isPresent()) {
                    return v.get();
                }
            }
        }
        return option.defaultValue();
    }
}
