package io.inflow.operators.metrics;

import io.inflow.gpu.resources.ProcessResources;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Optional;

/**
 * The HTTP endpoint ({@code /metrics}) that serves {@link InflowMetrics#REGISTRY}: one per process, started by the
 * first operator that opens and stopped when the last one closes. Operators hold a {@link Lease}.
 *
 * <p>A port that is taken moves on to the next one of the range; when the whole range is taken the operator runs
 * without an endpoint and says so in the log (metrics must never fail a job).
 *
 * <pre>{@code
 * try (MetricsEndpoint.Lease lease = MetricsEndpoint.acquire(MetricsOptions.settings(taskManagerConfig))) {
 *     lease.port();   // Optional[9260]
 * }
 * }</pre>
 */
public final class MetricsEndpoint {

    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);

    /** Endpoint settings: {@code firstPort..lastPort} (0..0 = any free port) on {@code host}. */
    public record Settings(boolean enabled, int firstPort, int lastPort, String host) {

        public Settings {
            if (firstPort < 0 || lastPort > 65535 || firstPort > lastPort) {
                throw new IllegalArgumentException("inflow.metrics.port must be a port or a range first-last within"
                        + " 0..65535 (got " + firstPort + "-" + lastPort + ")");
            }
        }

        /** Parses {@code "9260"} or {@code "9260-9269"}. */
        public static Settings parse(boolean enabled, String ports, String host) {
            String p = ports.strip();
            int dash = p.indexOf('-');
            try {
                int first = Integer.parseInt((dash < 0 ? p : p.substring(0, dash)).strip());
                int last = dash < 0 ? first : Integer.parseInt(p.substring(dash + 1).strip());
                return new Settings(enabled, first, last, host.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("inflow.metrics.port must be a port or a range like 9260-9269"
                        + " (got '" + ports + "')", e);
            }
        }
    }

    /** Keeps the endpoint up while held. */
    public interface Lease extends AutoCloseable {
        /** The port served, empty when disabled or when no port of the range was free. */
        Optional<Integer> port();

        @Override
        void close();
    }

    /** The registry key of the process's endpoint. */
    private static final String KEY = "metrics endpoint";

    private MetricsEndpoint() {
    }

    /** The running server (null when no port of the range was free): what the process registry holds. */
    private record Server(HTTPServer http) implements AutoCloseable {
        @Override
        public void close() {
            if (http != null) {
                http.close();
            }
        }
    }

    /**
     * Starts the endpoint unless this process already serves it, and holds it until the lease is closed (the
     * process's {@link ProcessResources} stops it with the last lease).
     */
    public static Lease acquire(Settings settings) {
        if (!settings.enabled()) {
            return new Held(null);
        }
        try {
            return new Held(ProcessResources.acquire(KEY, () -> new Server(start(settings))));
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the Inflow metrics endpoint", e);
        }
    }

    /** The port this process serves its metrics on, if it does. */
    public static Optional<Integer> port() {
        return ProcessResources.<Server>peek(KEY).filter(s -> s.http() != null).map(s -> s.http().getPort());
    }

    private static HTTPServer start(Settings s) {
        IOException last = null;
        for (int port = s.firstPort(); port <= s.lastPort(); port++) {
            try {
                HTTPServer started = HTTPServer.builder().hostname(s.host()).port(port)
                        .registry(InflowMetrics.REGISTRY).buildAndStart();
                LOG.info("Inflow metrics served at http://{}:{}/metrics", s.host(), started.getPort());
                return started;
            } catch (IOException e) {
                last = e;
            }
        }
        LOG.warn("Inflow metrics endpoint not started: no free port in {}-{} on {} ({}); set inflow.metrics.port",
                s.firstPort(), s.lastPort(), s.host(), last == null ? "empty range" : last.toString());
        return null;
    }

    private static final class Held implements Lease {
        private final ProcessResources.Lease<Server> lease;

        Held(ProcessResources.Lease<Server> lease) {
            this.lease = lease;
        }

        @Override
        public Optional<Integer> port() {
            return MetricsEndpoint.port();
        }

        @Override
        public void close() {
            if (lease != null) {
                try {
                    lease.close();
                } catch (Exception e) {
                    LOG.warn("stopping the Inflow metrics endpoint failed", e);
                }
            }
        }
    }
}
