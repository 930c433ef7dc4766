package io.inflow.jobs.embedded;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;


/**
 * A local Flink cluster (MiniCluster, started by the environment on execute) with the Prometheus reporter and the
 * web UI on loopback ports, as a user would run it on a laptop.
 *
 * <pre>{@code
 * LocalFlink flink = LocalFlink.withFreePorts(conf);
 * StreamExecutionEnvironment env = flink.environment();
 * System.out.println(flink.metricsUrl());   // http://127.0.0.1:<port>/metrics
 * }</pre>
 */
public final class LocalFlink {

    /** Flink's Prometheus reporter, loaded by its factory class (module flink-metrics-prometheus). */
    public static final String PROMETHEUS_FACTORY = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory";

    private final Configuration configuration;
    private final int metricsPort;
    private final int restPort;

    private LocalFlink(Configuration configuration, int metricsPort, int restPort) {
        this.configuration = configuration;
        this.metricsPort = metricsPort;
        this.restPort = restPort;
    }

    /** Picks free loopback ports for metrics and the web UI unless the configuration sets them. */
    public static LocalFlink withFreePorts(Configuration base) {
        Configuration conf = new Configuration(base);
        int metrics = conf.getOptional(org.apache.flink.configuration.ConfigOptions.key("metrics.reporter.prom.port")
                .stringType().noDefaultValue()).map(Integer::parseInt).orElseGet(Ports::freeLoopbackPort);
        conf.setString("metrics.reporter.prom.factory.class", PROMETHEUS_FACTORY);
        conf.setString("metrics.reporter.prom.port", Integer.toString(metrics));
        int rest = conf.getOptional(RestOptions.PORT).orElseGet(Ports::freeLoopbackPort);
        conf.set(RestOptions.PORT, rest);
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        return new LocalFlink(conf, metrics, rest);
    }

    /** A local environment whose MiniCluster serves the web UI and the metrics endpoint. */
    public StreamExecutionEnvironment environment() {
        return StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(configuration);
    }

    public Configuration configuration() {
        return configuration;
    }

    public String metricsUrl() {
        return "http://127.0.0.1:" + metricsPort + "/metrics";
    }

    public String webUiUrl() {
        return "http://127.0.0.1:" + restPort;
    }

    public int metricsPort() {
        return metricsPort;
    }
}
