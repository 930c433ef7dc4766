package io.inflow.sqlclient;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.cluster.ClusterRest;
import io.inflow.jobs.demo.DemoRunner;
import io.inflow.jobs.demo.SampleData;
import io.inflow.jobs.demo.SampleImages;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.jobs.embedded.LocalFlink;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code ./inflow sql}: Flink's SQL client with Inflow. Starts the demo's Kafka broker with its sample (or checks
 * the given Kafka cluster), a local Flink cluster (MiniCluster: web UI, Flink's and Inflow's metrics) in this JVM,
 * writes an init script ({@link InitScript}: {@code TABLE events}, {@code TABLE embeddings}, {@code MODEL embedder})
 * and opens Flink's SQL client in embedded mode as a JVM of its own on this terminal ({@link SqlClientProcess}); its
 * jobs run on the local cluster. When the client ends, jobs still running are cancelled and everything stops.
 * With {@code --jobmanager HOST:PORT} no local cluster starts: the jobs go to that cluster's REST address with
 * Inflow's jars as {@code pipeline.jars} ({@link ClusterJars}) and keep running there after the session.
 *
 * <p>Run as {@code java <flags> -cp <sql-client/target/lib> io.inflow.sqlclient.InflowSqlClient [options]}; see
 * {@link SqlClientOptions#USAGE}. The exit code is the client's (2 for a wrong option, 1 when the setup fails).
 */
public final class InflowSqlClient {

    /** Slots of the local TaskManager unless {@code taskmanager.numberOfTaskSlots} says otherwise. */
    static final int DEFAULT_SLOTS = 4;
    /** In-flight rows per ML_PREDICT subtask unless the session sets it: lets the provider batch rows. */
    static final int DEFAULT_MAX_CONCURRENT = 64;

    private InflowSqlClient() {
    }

    public static void main(String[] args) {
        int rc;
        try {
            rc = run(args, System.out);
        } catch (IllegalArgumentException e) {
            System.err.println("inflow sql: " + e.getMessage());
            rc = 2;
        } catch (Exception e) {
            System.err.println("inflow sql: failed: " + e);
            rc = 1;
        }
        System.exit(rc);
    }

    static int run(String[] args, PrintStream out) throws Exception {
        Path work = Files.createTempDirectory("inflow-sql-");
        Path log = work.resolve("log");
        Files.createDirectories(log);
        // before the first logger (Flink's Configuration has one): this JVM logs to a file, the terminal belongs to
        // the SQL client
        System.setProperty("log4j2.configurationFile", writeLogConfig(work, log.resolve("inflow-sql.log")).toUri()
                .toString());
        int rc = 1;
        try {
            Path cwd = Path.of(System.getProperty("inflow.cwd", "")).toAbsolutePath();
            SqlClientOptions options = SqlClientOptions.parse(args, cwd);
            if (options.help()) {
                out.print(SqlClientOptions.USAGE);
                rc = 0;
                return rc;
            }
            rc = session(options, cwd, work, out);
            return rc;
        } catch (IllegalArgumentException e) {
            rc = 0; // a wrong option: nothing ran, no log worth keeping
            throw e;
        } finally {
            if (rc == 0) {
                deleteTree(work);
            } else {
                System.err.println("inflow sql: logs kept in " + log);
            }
        }
    }

    private static int session(SqlClientOptions options, Path cwd, Path work, PrintStream out) throws Exception {
        Configuration conf = new Configuration(options.configuration());
        EmbeddedKafkaBroker broker = null;
        try {
            String bootstrap = options.bootstrapServers();
            String produced;
            if (bootstrap == null) {
                out.println("starting a Kafka 4.2 broker (KRaft) on 127.0.0.1 ...");
                broker = EmbeddedKafkaBroker.start(null);
                bootstrap = broker.bootstrapServers();
                conf.set(KafkaOptions.BOOTSTRAP_SERVERS, bootstrap);
                KafkaSettings kafka = KafkaOptions.settings(conf);
                TopicAdmin.ensureTopics(kafka, DemoRunner.DEMO_PARTITIONS, (short) 1);
                createTopic(kafka, conf.get(InitScript.OUTPUT_TOPIC), 1);
                SampleData sample = SampleData.load();
                DemoRunner.produce(bootstrap, kafka.topics().text(), sample.mixed());
                List<SampleData.Record> corpus = SampleData.corpus();
                DemoRunner.produce(bootstrap, kafka.topics().corpus(), corpus);
                SampleImages images = SampleImages.load();
                DemoRunner.produce(bootstrap, kafka.topics().image(), images.records(work.resolve("images")));
                produced = String.format("broker %s (embedded, temporary); produced the demo's sample to %s:"
                        + " %d text events, %d malformed records; its corpus to %s: %d documents; its images to %s:"
                        + " %d inline PNGs, %d file: references, %d broken", bootstrap, kafka.topics().text(),
                        sample.goodCount(), sample.malformedCount(), kafka.topics().corpus(), corpus.size(),
                        kafka.topics().image(), images.inlineCount(), images.fileCount(), images.brokenCount());
            } else {
                conf.set(KafkaOptions.BOOTSTRAP_SERVERS, bootstrap);
                KafkaSettings kafka = KafkaOptions.settings(conf);
                requireReachable(kafka);
                if (options.createTopics()) {
                    createTopic(kafka, kafka.topics().text(), 1);
                    createTopic(kafka, conf.get(InitScript.OUTPUT_TOPIC), 1);
                }
                produced = "Kafka at " + bootstrap;
            }
            if (options.jobManager() != null) {
                return onCluster(options, conf, bootstrap, produced, cwd, work, out);
            }
            return withCluster(options, conf, bootstrap, produced, cwd, work, out);
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
    }

    private static int withCluster(SqlClientOptions options, Configuration conf, String bootstrap, String produced,
            Path cwd, Path work, PrintStream out) throws Exception {
        LocalFlink flink = LocalFlink.withFreePorts(conf);
        Configuration clusterConf = new Configuration(flink.configuration());
        int slots = clusterConf.getOptional(TaskManagerOptions.NUM_TASK_SLOTS).orElse(DEFAULT_SLOTS);
        clusterConf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
        try (MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(clusterConf).setNumTaskManagers(1).setNumSlotsPerTaskManager(slots).build())) {
            cluster.start();
            URI rest = cluster.getRestAddress().get(60, TimeUnit.SECONDS);

            Configuration session = sessionConfiguration(options.configuration(), flink, rest);
            int rc = runClient(options, conf, bootstrap, session, List.of(produced, "local Flink cluster: web UI "
                    + flink.webUiUrl() + ", metrics: Inflow " + flink.metricsUrl() + ", Flink "
                    + flink.flinkMetricsUrl()), cwd, work, out);
            cancelRunning(cluster, out);
            return rc;
        }
    }

    /**
     * {@code --jobmanager}: the session's jobs go to that cluster with Inflow's jars ({@link ClusterJars}); jobs
     * still running when the client ends keep running there (listed, with how to cancel them).
     */
    private static int onCluster(SqlClientOptions options, Configuration conf, String bootstrap, String produced,
            Path cwd, Path work, PrintStream out) throws Exception {
        SqlClientOptions.JobManager jm = options.jobManager();
        ClusterRest rest = new ClusterRest(jm.url());
        JsonNode overview;
        try {
            overview = rest.get("/overview");
        } catch (IOException e) {
            throw new IllegalArgumentException("--jobmanager " + jm.host() + ":" + jm.port() + ": no Flink REST API"
                    + " answers at " + jm.url() + " (" + e.getMessage() + ")");
        }
        List<Path> jars = ClusterJars.locate(work);
        Configuration session = remoteSessionConfiguration(options.configuration(), jm, jars);
        Set<String> before = jobIds(rest);
        int rc = runClient(options, conf, bootstrap, session, List.of(produced, String.format(Locale.ROOT,
                "Flink cluster %s (Flink %s, %d TaskManagers, %d slots); each job ships %d jars (%d MiB): %s",
                jm.url(), overview.path("flink-version").asText("?"), overview.path("taskmanagers").asInt(),
                overview.path("slots-total").asInt(), jars.size(), ClusterJars.mebibytes(jars),
                jars.stream().map(j -> j.getFileName().toString()).collect(Collectors.joining(", ")))), cwd, work,
                out);
        reportRunning(rest, before, out);
        return rc;
    }

    /** Writes the init script and the session configuration, prints the banner, runs the client to its end. */
    private static int runClient(SqlClientOptions options, Configuration conf, String bootstrap,
            Configuration session, List<String> where, Path cwd, Path work, PrintStream out) throws Exception {
        SqlClientProcess client = SqlClientProcess.write(work, session);
        InitScript init = InitScript.of(conf, bootstrap);
        Path initFile = work.resolve("init.sql");
        String initSql = init.sql();
        if (options.init() != null) {
            initSql += "\n-- from -i " + options.init() + "\n" + Files.readString(options.init());
        }
        Files.writeString(initFile, initSql, StandardCharsets.UTF_8);

        out.println("Inflow SQL: Flink's SQL client (embedded mode) with 'provider' = 'inflow'");
        where.forEach(line -> out.println("  " + line));
        out.println("  init script " + initFile + ": TABLE events (" + init.eventsTopic() + "), TABLE embeddings ("
                + init.outputTopic() + "), MODEL embedder (" + InitScript.MODEL + "), TABLE docs ("
                + init.corpusTopic() + ", for VECTOR_SEARCH), MODEL spam, TABLE images (" + init.imageTopic()
                + "), MODEL vit");
        if (!options.script()) {
            out.println("  try: INSERT INTO embeddings SELECT id, embedding FROM ML_PREDICT(TABLE events, MODEL"
                    + " embedder, DESCRIPTOR(text));");
            out.println("       SELECT * FROM embeddings;      (QUIT; or Ctrl-D ends the session)");
        }
        out.flush();

        List<String> clientArgs = new ArrayList<>(List.of("-i", initFile.toString()));
        clientArgs.addAll(options.clientArgs());
        return runAttached(client, clientArgs, cwd);
    }

    /**
     * The session's {@code config.yaml} for {@code --jobmanager}: the defaults of {@link #sessionConfiguration}, the
     * user's keys, then {@code execution.target: remote} to the JobManager's REST address and {@code pipeline.jars}
     * (the user's, if any, then {@code jars}).
     */
    static Configuration remoteSessionConfiguration(Configuration user, SqlClientOptions.JobManager jm,
            List<Path> jars) {
        Configuration s = new Configuration();
        s.set(CoreOptions.DEFAULT_PARALLELISM, 1);
        s.setString("table.exec.async-ml-predict.max-concurrent-operations", Integer.toString(DEFAULT_MAX_CONCURRENT));
        s.addAll(user);
        s.set(DeploymentOptions.TARGET, "remote");
        s.set(RestOptions.ADDRESS, jm.host());
        s.set(RestOptions.PORT, jm.port());
        List<String> shipped = new ArrayList<>(s.getOptional(PipelineOptions.JARS).orElse(List.of()));
        jars.forEach(j -> shipped.add(j.toUri().toString()));
        s.set(PipelineOptions.JARS, shipped);
        return s;
    }

    /** Ids of the cluster's jobs (empty when the REST API does not answer). */
    private static Set<String> jobIds(ClusterRest rest) {
        Set<String> ids = new HashSet<>();
        try {
            rest.get("/jobs/overview").path("jobs").forEach(j -> ids.add(j.path("jid").asText()));
        } catch (IOException e) {
            // the listing after the session says so
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return ids;
    }

    /** Jobs this session submitted that are still running on the cluster, and how to cancel them. */
    private static void reportRunning(ClusterRest rest, Set<String> before, PrintStream out) {
        try {
            for (JsonNode job : rest.get("/jobs/overview").path("jobs")) {
                String id = job.path("jid").asText();
                String state = job.path("state").asText();
                if (!before.contains(id) && !Set.of("FINISHED", "CANCELED", "FAILED").contains(state)) {
                    out.println("inflow sql: job '" + job.path("name").asText() + "' (" + id + ", " + state
                            + ") keeps running on " + rest.url() + "; cancel it in the web UI or with: curl -X PATCH '"
                            + rest.url() + "/jobs/" + id + "?mode=cancel'");
                }
            }
        } catch (IOException e) {
            out.println("inflow sql: cannot list the cluster's jobs at " + rest.url() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The SQL session's {@code config.yaml}: jobs go to the local cluster's REST address; Inflow's metrics keys (the
     * provider reads them from the session); the user's keys, which win over two defaults ({@code parallelism.default}
     * 1, {@link #DEFAULT_MAX_CONCURRENT} rows in flight per ML_PREDICT subtask).
     */
    static Configuration sessionConfiguration(Configuration user, LocalFlink flink, URI rest) {
        Configuration s = new Configuration();
        s.set(CoreOptions.DEFAULT_PARALLELISM, 1);
        s.setString("table.exec.async-ml-predict.max-concurrent-operations", Integer.toString(DEFAULT_MAX_CONCURRENT));
        flink.configuration().toMap().forEach((k, v) -> {
            if (k.startsWith("inflow.metrics.")) {
                s.setString(k, v);
            }
        });
        s.addAll(user);
        s.set(DeploymentOptions.TARGET, "remote");
        s.set(RestOptions.ADDRESS, rest.getHost());
        s.set(RestOptions.PORT, rest.getPort());
        return s;
    }

    /**
     * Runs the client to its end. While it runs, Ctrl-C belongs to the client (it cancels the running query or
     * line); this JVM ignores it so the cluster and broker stay up until the client exits.
     */
    @SuppressWarnings("removal")
    private static int runAttached(SqlClientProcess client, List<String> args, Path cwd) throws Exception {
        Process p = client.start(args, cwd);
        Thread killClient = new Thread(p::destroyForcibly, "inflow-sql-client-stop");
        Runtime.getRuntime().addShutdownHook(killClient);
        sun.misc.SignalHandler previous = sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> { });
        try {
            return p.waitFor();
        } finally {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), previous);
            try {
                Runtime.getRuntime().removeShutdownHook(killClient);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is already exiting: the hook runs
            }
        }
    }

    /** Jobs still running when the client ended (an INSERT without table.dml-sync) are cancelled, and said so. */
    private static void cancelRunning(MiniCluster cluster, PrintStream out) throws Exception {
        for (JobStatusMessage job : cluster.listJobs().get(30, TimeUnit.SECONDS)) {
            if (!job.getJobState().isGloballyTerminalState()) {
                out.println("inflow sql: the session ended: cancelling job '" + job.getJobName() + "' ("
                        + job.getJobId() + ", " + job.getJobState() + ")");
                cluster.cancelJob(job.getJobId()).get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static void requireReachable(KafkaSettings kafka) {
        Properties p = kafka.clientProperties();
        p.setProperty("request.timeout.ms", "10000");
        p.setProperty("default.api.timeout.ms", "15000");
        try (Admin admin = Admin.create(p)) {
            admin.describeCluster().nodes().get(15, TimeUnit.SECONDS);
        } catch (TimeoutException | ExecutionException e) {
            throw new IllegalArgumentException("cannot reach Kafka at " + kafka.bootstrapServers() + " within 15 s ("
                    + (e.getCause() == null ? e : e.getCause()) + "); check --bootstrap-servers");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void createTopic(KafkaSettings kafka, String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(kafka.clientProperties())) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create topic " + topic + " on " + kafka.bootstrapServers()
                        + ": " + e.getCause().getMessage(), e.getCause());
            }
        }
    }

    private static Path writeLogConfig(Path work, Path file) throws IOException {
        Path config = work.resolve("log4j2-inflow-sql.properties");
        Files.writeString(config, SqlClientProcess.logConfiguration(file), StandardCharsets.UTF_8);
        return config;
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory
        }
    }
}
