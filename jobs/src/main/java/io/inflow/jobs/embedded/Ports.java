package io.inflow.jobs.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Free TCP ports on loopback for the embedded services (the caller binds the port right after). */
public final class Ports {

    private Ports() {
    }

    /** A port that was free on 127.0.0.1 a moment ago. */
    public static int freeLoopbackPort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on loopback", e);
        }
    }

    /** {@code port} when it can be bound on 127.0.0.1 now, else a free one (a restarted broker keeps its port). */
    public static int loopbackPortOr(int port) {
        if (port > 0) {
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true); // as Kafka binds: connections of a killed broker in TIME_WAIT do not block it
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
                return port;
            } catch (IOException e) {
                // taken: fall through
            }
        }
        return freeLoopbackPort();
    }
}
