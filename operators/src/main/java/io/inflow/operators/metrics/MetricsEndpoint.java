package io.inflow.operators.metrics;

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

    private static HTTPServer server;
    private static int holders;

    private MetricsEndpoint() {
    }

    /** Starts the endpoint unless this process already serves it, and holds it until the lease is closed. */
    public static synchronized Lease acquire(Settings settings) {
        if (!settings.enabled()) {
            return new Held(false);
        }
        if (server == null) {
            server = start(settings);
        }
        holders++;
        return new Held(true);
    }

    /** The port this process serves its metrics on, if it does. */
    public static synchronized Optional<Integer> port() {
        return server == null ? Optional.empty() : Optional.of(server.getPort());
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

    private static synchronized void release() {
        if (--holders == 0 && server != null) {
            server.close();
            server = null;
        }
    }

    private static final class Held implements Lease {
        private final boolean counted;
        private boolean closed;

        Held(boolean counted) {
            this.counted = counted;
        }

        @Override
        public Optional<Integer> port() {
            return MetricsEndpoint.port();
        }

        @Override
        public void close() {
            synchronized (MetricsEndpoint.class) {
                if (closed) {
                    return;
                }
                closed = true;
                if (counted) {
                    release();
                }
            }
        }
    }
}
