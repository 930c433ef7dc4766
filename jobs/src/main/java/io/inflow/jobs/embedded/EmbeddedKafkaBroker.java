package io.inflow.jobs.embedded;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool$;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real single-node Kafka 4.2 broker (KRaft combined mode: broker and controller in one server), started in this
 * JVM on loopback. Used by the demo and by the integration tests; it is the same broker code a Kafka cluster runs.
 *
 * <p>Storage is formatted on first start ({@code kafka-storage format}); with a given data directory the broker
 * keeps its topics across restarts (also after kill -9: Kafka recovers its log) and its ports when they are still
 * free, otherwise a temporary directory is deleted on close.
 *
 * <pre>{@code
 * try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(null)) {
 *     String bootstrap = kafka.bootstrapServers();   // 127.0.0.1:<port>
 * }
 * }</pre>
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    /** Largest record the embedded broker accepts (Kafka's default is about 1 MiB). */
    public static final int MAX_MESSAGE_BYTES = 16 << 20;

    /** The SASL mechanism of the secured listener. */
    public static final String SCRAM_MECHANISM = "SCRAM-SHA-512";

    /**
     * A client listener with SASL_SSL (SCRAM-SHA-512 over TLS) instead of PLAINTEXT, as a secured production cluster
     * has; the controller listener stays PLAINTEXT on loopback (clients never reach it).
     *
     * @param keyStore PKCS12 key store with the broker's private key and a certificate for 127.0.0.1 / localhost
     * @param trustStore PKCS12 trust store with the CA that signed it (the broker talks to itself through the
     *     secured listener, as brokers of a cluster talk to each other)
     * @param users SCRAM users and their passwords, written into the KRaft metadata when the storage is formatted
     *     (SCRAM users must exist before the broker serves); a {@code broker} user for the broker itself is added
     */
    public record SaslSsl(Path keyStore, String keyStorePassword, Path trustStore, String trustStorePassword,
            Map<String, String> users) {

        /** Client properties for {@code user} (one of {@link #users()}) against this listener. */
        public Properties clientProperties(String user) {
            String password = users.get(user);
            if (password == null) {
                throw new IllegalArgumentException("no SCRAM user " + user + " (users: " + users.keySet() + ")");
            }
            Properties p = new Properties();
            p.setProperty("security.protocol", "SASL_SSL");
            p.setProperty("sasl.mechanism", SCRAM_MECHANISM);
            p.setProperty("sasl.jaas.config", jaas(user, password));
            p.setProperty("ssl.truststore.location", trustStore.toString());
            p.setProperty("ssl.truststore.password", trustStorePassword);
            p.setProperty("ssl.truststore.type", "PKCS12");
            return p;
        }

        static String jaas(String user, String password) {
            return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                    + "\" password=\"" + password + "\";";
        }
    }

    private final KafkaRaftServer server;
    private final Path dataDir;
    private final boolean deleteOnClose;
    private final int port;
    private final SaslSsl security;

    private EmbeddedKafkaBroker(KafkaRaftServer server, Path dataDir, boolean deleteOnClose, int port,
            SaslSsl security) {
        this.server = server;
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.port = port;
        this.security = security;
    }

    /**
     * Formats (if needed) and starts a broker, waiting until it answers.
     *
     * @param dataDir where the log lives; null for a temporary directory removed on {@link #close()}
     */
    public static EmbeddedKafkaBroker start(Path dataDir) {
        return start(dataDir, null);
    }

    /**
     * As {@link #start(Path)}, with a SASL_SSL client listener when {@code security} is given.
     *
     * <pre>{@code
     * try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(null, new SaslSsl(ks, kp, ts, tp,
     *         Map.of("inflow", secret)))) {
     *     Properties client = kafka.security().clientProperties("inflow");
     * }
     * }</pre>
     */
    public static EmbeddedKafkaBroker start(Path dataDir, SaslSsl security) {
        if (security != null) {
            Map<String, String> users = new java.util.TreeMap<>(security.users());
            users.putIfAbsent("broker", Uuid.randomUuid().toString());
            security = new SaslSsl(security.keyStore(), security.keyStorePassword(), security.trustStore(),
                    security.trustStorePassword(), Map.copyOf(users));
        }
        long t0 = System.nanoTime();
        boolean temp = dataDir == null;
        try {
            Path dir = temp ? Files.createTempDirectory("inflow-kafka-") : Files.createDirectories(dataDir);
            Path propsFile = dir.resolve("server.properties");
            Properties previous = new Properties();
            if (Files.exists(propsFile)) {
                try (Reader r = Files.newBufferedReader(propsFile)) {
                    previous.load(r);
                }
            }
            int brokerPort = Ports.loopbackPortOr(portOf(previous, security == null ? "PLAINTEXT" : "SASL_SSL"));
            int controllerPort = Ports.loopbackPortOr(portOf(previous, "CONTROLLER"));
            Properties props = brokerProperties(dir.resolve("log"), brokerPort, controllerPort, security);
            try (Writer w = Files.newBufferedWriter(propsFile)) {
                props.store(w, "Inflow embedded Kafka broker (KRaft combined mode)");
            }
            if (!Files.exists(dir.resolve("log").resolve("meta.properties"))) {
                format(propsFile, security);
            }
            KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
            server.startup();
            EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(server, dir, temp, brokerPort, security);
            broker.awaitReady();
            LOG.info("Kafka broker up at {} in {} ms (data in {})", broker.bootstrapServers(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), dir);
            return broker;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the embedded Kafka broker's directory", e);
        }
    }

    /** The port of listener {@code name} in an earlier run's properties, or 0. */
    private static int portOf(Properties previous, String name) {
        for (String l : previous.getProperty("listeners", "").split(",")) {
            if (l.startsWith(name + "://")) {
                return Integer.parseInt(l.substring(l.lastIndexOf(':') + 1));
            }
        }
        return 0;
    }

    static Properties brokerProperties(Path logDir, int brokerPort, int controllerPort) {
        return brokerProperties(logDir, brokerPort, controllerPort, null);
    }

    static Properties brokerProperties(Path logDir, int brokerPort, int controllerPort, SaslSsl security) {
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", "1");
        p.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:"
                + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.setProperty("log.dirs", logDir.toString());
        // one node: every internal topic has replication 1, and few partitions keep start-up fast
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("offsets.topic.num.partitions", "4");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("transaction.state.log.num.partitions", "4");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("auto.create.topics.enable", "false");
        p.setProperty("num.partitions", "1");
        // records up to 16 MiB: lets oversize inputs reach the pipeline (and be dead-lettered) instead of being refused
        p.setProperty("message.max.bytes", Integer.toString(MAX_MESSAGE_BYTES));
        p.setProperty("replica.fetch.max.bytes", Integer.toString(MAX_MESSAGE_BYTES));
        // the broker maximum the exactly-once sinks must stay under (Kafka's default, stated explicitly)
        p.setProperty("transaction.max.timeout.ms", "900000");
        if (security != null) {
            p.setProperty("listeners", "SASL_SSL://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:"
                    + controllerPort);
            p.setProperty("advertised.listeners", "SASL_SSL://127.0.0.1:" + brokerPort);
            p.setProperty("inter.broker.listener.name", "SASL_SSL");
            p.setProperty("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT");
            p.setProperty("sasl.enabled.mechanisms", SCRAM_MECHANISM);
            p.setProperty("sasl.mechanism.inter.broker.protocol", SCRAM_MECHANISM);
            p.setProperty("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                    SaslSsl.jaas("broker", security.users().get("broker")));
            p.setProperty("ssl.keystore.location", security.keyStore().toString());
            p.setProperty("ssl.keystore.password", security.keyStorePassword());
            p.setProperty("ssl.key.password", security.keyStorePassword());
            p.setProperty("ssl.keystore.type", "PKCS12");
            p.setProperty("ssl.truststore.location", security.trustStore().toString());
            p.setProperty("ssl.truststore.password", security.trustStorePassword());
            p.setProperty("ssl.truststore.type", "PKCS12");
            p.setProperty("ssl.client.auth", "none");
        }
        return p;
    }

    private static void format(Path propsFile, SaslSsl security) {
        String clusterId = Uuid.randomUuid().toString();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("format", "--cluster-id",
                clusterId, "--config", propsFile.toString(), "--ignore-formatted"));
        if (security != null) {
            // kafka-storage format --add-scram: the SCRAM users go into the bootstrap metadata
            security.users().forEach((user, password) -> {
                args.add("--add-scram");
                args.add(SCRAM_MECHANISM + "=[name=" + user + ",password=" + password + "]");
            });
        }
        int rc = StorageTool$.MODULE$.execute(args.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8));
        if (rc != 0) {
            throw new IllegalStateException("kafka-storage format failed (" + rc + "): "
                    + out.toString(StandardCharsets.UTF_8));
        }
    }

    private void awaitReady() {
        Properties p = security == null ? new Properties() : security.clientProperties("broker");
        p.setProperty("bootstrap.servers", bootstrapServers());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (Admin admin = Admin.create(p)) {
            while (true) {
                try {
                    admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                    return;
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("embedded Kafka broker did not answer within 60 s", e);
                    }
                    Thread.sleep(100);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Kafka", e);
        }
    }

    /** {@code 127.0.0.1:<port>}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The secured listener's settings (with the {@code broker} user added), or null for PLAINTEXT. */
    public SaslSsl security() {
        return security;
    }

    /** The broker's data directory. */
    public Path dataDir() {
        return dataDir;
    }

    @Override
    public void close() {
        try {
            server.shutdown();
            server.awaitShutdown();
        } finally {
            if (deleteOnClose) {
                deleteRecursively(dataDir);
            }
        }
        LOG.info("Kafka broker stopped");
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", dir, e.toString());
        }
    }
}
