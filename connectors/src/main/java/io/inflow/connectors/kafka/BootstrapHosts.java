package io.inflow.connectors.kafka;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Resolves the hosts of a bootstrap server list before any Kafka client is built. Kafka refuses a list none of whose
 * hosts resolves with "No resolvable bootstrap urls given in bootstrap.servers", which names neither the hosts nor
 * the setting; this check fails first and names both. As in Kafka, a list where some hosts resolve is accepted (the
 * others are logged): a broker may be out of DNS for a while.
 *
 * <p>{@code BootstrapHosts.requireResolvable("inflow.kafka.bootstrap-servers", "kafka-1:9092,kafka-2:9092");}
 */
final class BootstrapHosts {

    private static final Logger LOG = LoggerFactory.getLogger(BootstrapHosts.class);

    private BootstrapHosts() {
    }

    /**
     * @param bootstrap host:port entries, comma-separated, already checked for form
     * @throws IllegalArgumentException when no host resolves, naming each with the resolver's answer
     */
    static void requireResolvable(String key, String bootstrap) {
        List<String> unresolved = new ArrayList<>();
        int resolved = 0;
        for (String entry : bootstrap.split(",")) {
            String e = entry.strip();
            String host = e.substring(0, e.lastIndexOf(':'));
            try {
                InetAddress.getAllByName(host);
                resolved++;
            } catch (UnknownHostException ex) {
                unresolved.add("'" + host + "'");
            }
        }
        if (resolved == 0) {
            throw new IllegalArgumentException("'" + key + "': " + (unresolved.size() == 1 ? "host " : "hosts ")
                    + String.join(", ", unresolved) + " of '" + bootstrap + "' cannot be resolved (unknown host):"
                    + " check the name and this machine's DNS (Kafka would only say \"No resolvable bootstrap urls"
                    + " given in bootstrap.servers\")");
        }
        if (!unresolved.isEmpty()) {
            LOG.warn("{}: {} of '{}' cannot be resolved; connecting through the others", key,
                    String.join(", ", unresolved), bootstrap);
        }
    }
}
