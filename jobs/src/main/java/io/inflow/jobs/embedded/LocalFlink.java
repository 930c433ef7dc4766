package io.inflow.jobs.embedded;

import io.inflow.operators.metrics.MetricsEndpoint;
import io.inflow.operators.metrics.MetricsOptions;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;


/**
 * A local Flink cluster (MiniCluster, started by the environment on execute) with its two metrics endpoints and the
 * web UI on loopback ports, as a user would run it on a laptop: Flink's Prometheus reporter (Flink's own metrics:
 * Kafka lag, checkpoints, restarts) and Inflow's endpoint ({@code inflow_*} operator metrics, served once the job's
 * operators run; see {@code io.inflow.operators.metrics.InflowMetrics}).
 *
 * <pre>{@code
 * LocalFlink flink = LocalFlink.withFreePorts(conf);
 * StreamExecutionEnvironment env = flink.environment();
 * System.out.println(flink.metricsUrl());        // http://127.0.0.1:<port>/metrics  (inflow_*)
 * System.out.println(flink.flinkMetricsUrl());   // http://127.0.0.1:<port>/metrics  (flink_*)
 * }</pre>
 */
public final class LocalFlink {

    /** Flink's Prometheus reporter, loaded by its factory class (module flink-metrics-prometheus). */
    public static final String PROMETHEUS_FACTORY = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory";

    private final Configuration configuration;
    private final int metricsPort;
    private final int inflowMetricsPort;
    private final int restPort;

    private LocalFlink(Configuration configuration, int metricsPort, int inflowMetricsPort, int restPort) {
        this.configuration = configuration;
        this.metricsPort = metricsPort;
        this.inflowMetricsPort = inflowMetricsPort;
        this.restPort = restPort;
    }

    /**
     * Picks free loopback ports for both metrics endpoints and the web UI unless the configuration sets them
     * ({@code metrics.reporter.prom.port}, {@code inflow.metrics.port}, {@code rest.port}).
     */
    public static LocalFlink withFreePorts(Configuration base) {
        Configuration conf = new Configuration(base);
        int metrics = conf.getOptional(org.apache.flink.configuration.ConfigOptions.key("metrics.reporter.prom.port")
                .stringType().noDefaultValue()).map(Integer::parseInt).orElseGet(Ports::freeLoopbackPort);
        conf.setString("metrics.reporter.prom.factory.class", PROMETHEUS_FACTORY);
        conf.setString("metrics.reporter.prom.port", Integer.toString(metrics));
        int inflow = conf.getOptional(MetricsOptions.PORT).map(p -> MetricsEndpoint.Settings.parse(true, p,
                "127.0.0.1").firstPort()).orElseGet(Ports::freeLoopbackPort);
        conf.set(MetricsOptions.PORT, Integer.toString(inflow));
        if (!conf.contains(MetricsOptions.BIND_HOST)) {
            conf.set(MetricsOptions.BIND_HOST, "127.0.0.1");
        }
        int rest = conf.getOptional(RestOptions.PORT).orElseGet(Ports::freeLoopbackPort);
        conf.set(RestOptions.PORT, rest);
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        return new LocalFlink(conf, metrics, inflow, rest);
    }

    /** A local environment whose MiniCluster serves the web UI and the metrics endpoint. */
    public StreamExecutionEnvironment environment() {
        return StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(configuration);
    }

    public Configuration configuration() {
        return configuration;
    }

    /** Inflow's operator metrics ({@code inflow_*}), served while the job's operators run. */
    public String metricsUrl() {
        return "http://127.0.0.1:" + inflowMetricsPort + "/metrics";
    }

    /** Flink's own metrics ({@code flink_*}) from Flink's Prometheus reporter. */
    public String flinkMetricsUrl() {
        return "http://127.0.0.1:" + metricsPort + "/metrics";
    }

    public int inflowMetricsPort() {
        return inflowMetricsPort;
    }

    public String webUiUrl() {
        return "http://127.0.0.1:" + restPort;
    }

    public int metricsPort() {
        return metricsPort;
    }
}
