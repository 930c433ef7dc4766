package io.inflow.jobs.cluster;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.jobs.InflowPipelineJob;
import io.inflow.jobs.embedded.LocalFlink;
import io.inflow.jobs.embedded.Ports;
import io.inflow.jobs.recovery.RestorePoint;
import io.inflow.jobs.recovery.StateDirectory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.configuration.Configuration;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A standalone Flink session cluster on this machine, started from the Maven jars of {@code jobs/target/flink-lib}
 * (Flink's own jars only): one JobManager ({@code StandaloneSessionClusterEntrypoint}) and N TaskManagers
 * ({@code TaskManagerRunner}), each its own JVM with the memory flags Flink's scripts would compute, Flink's web UI
 * and REST API on the JobManager, one Prometheus port per process, durable checkpoints under the data directory.
 * The job arrives over REST as the cluster jar ({@code jobs/target/inflow-jobs-<version>-flink.jar}), with the same
 * {@code -D} keys as {@code ./inflow run}. This is what {@code ./inflow cluster start|status|submit|stop} runs:
 *
 * <pre>{@code
 * ./inflow cluster start --taskmanagers 2 --slots 2            # JobManager + 2 TaskManagers, web UI on :8081
 * ./inflow cluster submit --bootstrap-servers kafka:9092 -Dparallelism.default=2
 * ./inflow cluster status                                       # processes, TaskManagers, slots, jobs
 * kill -9 $(cat ~/.inflow/cluster/run/taskmanager-1.pid)        # a TaskManager dies; the job fails over
 * ./inflow cluster start                                        # starts what is missing (that TaskManager)
 * ./inflow cluster stop                                         # SIGTERM to every process (checkpoints stay)
 * }</pre>
 *
 * <p>In Java: {@code SessionCluster c = new SessionCluster(new ClusterLayout(dir), Artifacts.locate(null, null));
 * c.start(options, System.out); String jobId = c.submit(conf, false, System.out);}
 *
 * <p>{@code start} is idempotent: with nothing running it (re)writes {@code conf/config.yaml} from the options and
 * {@code -D} keys and starts every process; with some running it keeps the configuration and starts only the missing
 * ones (a killed TaskManager or JobManager comes back on the same ports). Without high availability a JobManager
 * restart loses the running job; {@code submit} then resumes it from the newest retained checkpoint.
 */
public final class SessionCluster {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What {@code start} sets up; null / 0 fields take the stored value of an earlier start, else the default. */
    public record Options(int taskManagers, int slots, int restPort, int metricsPort, Configuration extra) {
        /** 2 TaskManagers with 2 slots each, REST on 8081, Prometheus from 9249 (JobManager) up. */
        public static Options defaults() {
            return new Options(0, 0, 0, 0, new Configuration());
        }
    }

    /** Where Flink's jars and the job jar are: {@code jobs/target/flink-lib} and {@code jobs/target/*-flink.jar}. */
    public record Artifacts(Path flinkLib, Path jobJar) {
        /**
         * The given paths, else {@code INFLOW_FLINK_LIB} / {@code INFLOW_JOB_JAR}, else next to this class's jar
         * (or classes directory) in {@code jobs/target}.
         */
        public static Artifacts locate(String flinkLib, String jobJar) {
            Path target = codeSourceDir();
            Path lib = Path.of(Optional.ofNullable(flinkLib).orElse(Optional.ofNullable(System.getenv("INFLOW_FLINK_LIB"))
                    .orElse(target.resolve("flink-lib").toString())));
            String jar = Optional.ofNullable(jobJar).orElse(System.getenv("INFLOW_JOB_JAR"));
            Path job = jar != null ? Path.of(jar) : findClusterJar(target);
            return new Artifacts(lib, job);
        }

        private static Path codeSourceDir() {
            try {
                Path p = Path.of(SessionCluster.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                return p.getParent() == null ? p : p.getParent();
            } catch (URISyntaxException | NullPointerException e) {
                return Path.of("jobs", "target");
            }
        }

        private static Path findClusterJar(Path target) {
            try (Stream<Path> files = Files.list(target)) {
                return files.filter(f -> f.getFileName().toString().matches("inflow-jobs-.*-flink\\.jar")).findFirst()
                        .orElse(target.resolve("inflow-jobs-flink.jar"));
            } catch (IOException e) {
                return target.resolve("inflow-jobs-flink.jar");
            }
        }
    }

    private final ClusterLayout layout;
    private final Artifacts artifacts;

    public SessionCluster(ClusterLayout layout, Artifacts artifacts) {
        this.layout = layout;
        this.artifacts = artifacts;
    }

    public ClusterLayout layout() {
        return layout;
    }

    /** The processes of this cluster by name (jobmanager, taskmanager-1, ...), per the stored settings. */
    public List<String> processes() {
        List<String> names = new ArrayList<>(List.of(ClusterLayout.JOBMANAGER));
        int n = Integer.parseInt(stored().getProperty("taskmanagers", "0"));
        for (int i = 1; i <= n; i++) {
            names.add(ClusterLayout.taskManager(i));
        }
        return names;
    }

    public String restUrl() {
        return "http://127.0.0.1:" + stored().getProperty("rest.port", "8081");
    }

    /** Prometheus port of a process: the JobManager's base port, TaskManager n: base + n. */
    public int metricsPort(String process) {
        int base = Integer.parseInt(stored().getProperty("metrics.port", "9249"));
        return process.equals(ClusterLayout.JOBMANAGER) ? base
                : base + Integer.parseInt(process.substring(process.lastIndexOf('-') + 1));
    }

    /**
     * Starts the processes that are not running and waits until the REST API answers and every TaskManager has
     * registered. Returns the number of processes it started.
     */
    public int start(Options options, PrintStream out, Duration timeout) throws IOException, InterruptedException {
        requireFlinkLib();
        boolean anyAlive = Files.isRegularFile(layout.properties())
                && processes().stream().anyMatch(p -> layout.alive(p).isPresent());
        if (!anyAlive) {
            writeConfiguration(options);
        } else if (!options.extra().toMap().isEmpty() || options.taskManagers() > 0 || options.slots() > 0) {
            out.println("cluster already (partly) running: keeping " + layout.configYaml()
                    + " (stop it to change the configuration)");
        }
        int started = 0;
        for (String p : processes()) {
            Optional<ProcessHandle> live = layout.alive(p);
            if (live.isPresent()) {
                continue;
            }
            long pid = launch(p);
            out.println("started " + p + " (pid " + pid + ", log " + layout.log(p) + ", metrics http://127.0.0.1:"
                    + metricsPort(p) + "/metrics)");
            started++;
        }
        awaitReady(out, timeout);
        return started;
    }

    /** Starts one process of the cluster (its configuration must exist); its pid. */
    public long launch(String process) throws IOException {
        List<String> dynamic = new ArrayList<>(List.of("-Dmetrics.reporter.prom.port=" + metricsPort(process)));
        List<String> cmd;
        if (process.equals(ClusterLayout.JOBMANAGER)) {
            cmd = ProcessCommands.jobManager(layout, artifacts.flinkLib(), dynamic);
        } else {
            dynamic.add("-Dtaskmanager.resource-id=" + process);
            cmd = ProcessCommands.taskManager(layout, artifacts.flinkLib(), process, dynamic);
        }
        if (new File("/usr/bin/setsid").canExecute()) {
            cmd.add(0, "/usr/bin/setsid"); // its own session: a Ctrl-C or a closed terminal of the caller spares it
        }
        Files.createDirectories(layout.log(process).getParent());
        Files.writeString(layout.out(process), "# " + String.join(" ", cmd) + "\n",
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(layout.out(process).toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        layout.writePid(process, proc.pid());
        return proc.pid();
    }

    private void awaitReady(PrintStream out, Duration timeout) throws IOException, InterruptedException {
        ClusterRest rest = new ClusterRest(restUrl());
        int want = processes().size() - 1;
        // a TaskManager shows in /overview before its slots do: ready means every slot is registered too
        int wantSlots = want * Integer.parseInt(stored().getProperty("slots", "2"));
        long deadline = System.nanoTime() + timeout.toNanos();
        int registered = -1;
        while (System.nanoTime() < deadline) {
            if (layout.alive(ClusterLayout.JOBMANAGER).isEmpty()) {
                throw new IOException("the JobManager exited; see " + layout.log(ClusterLayout.JOBMANAGER) + " and "
                        + layout.out(ClusterLayout.JOBMANAGER));
            }
            if (rest.reachable()) {
                JsonNode overview = rest.get("/overview");
                registered = overview.path("taskmanagers").asInt();
                int slots = overview.path("slots-total").asInt();
                if (registered >= want && slots >= wantSlots) {
                    out.println("cluster ready: web UI " + restUrl() + ", " + registered + " TaskManagers, "
                            + slots + " slots; data in " + layout.root());
                    return;
                }
            }
            Thread.sleep(500);
        }
        throw new IOException("cluster not ready within " + timeout + " (" + Math.max(registered, 0) + " of " + want
                + " TaskManagers registered); logs in " + layout.root().resolve("log"));
    }

    /** Prints the processes, the cluster's TaskManagers and slots, and its jobs; 0 when the REST API answers. */
    public int status(PrintStream out) throws InterruptedException {
        if (!Files.isRegularFile(layout.properties())) {
            out.println("no cluster in " + layout.root() + " (./inflow cluster start)");
            return 3;
        }
        for (String p : processes()) {
            Optional<ProcessHandle> live = layout.alive(p);
            out.printf("%-15s %s  metrics http://127.0.0.1:%d/metrics  log %s%n", p,
                    live.map(h -> "running (pid " + h.pid() + ")").orElse("not running"), metricsPort(p),
                    layout.log(p));
        }
        ClusterRest rest = new ClusterRest(restUrl());
        try {
            JsonNode o = rest.get("/overview");
            out.printf("Flink %s at %s: %d TaskManagers, %d slots (%d free), jobs running %d, finished %d, cancelled"
                    + " %d, failed %d%n", o.path("flink-version").asText(), restUrl(), o.path("taskmanagers").asInt(),
                    o.path("slots-total").asInt(), o.path("slots-available").asInt(), o.path("jobs-running").asInt(),
                    o.path("jobs-finished").asInt(), o.path("jobs-cancelled").asInt(), o.path("jobs-failed").asInt());
            for (JsonNode tm : rest.get("/taskmanagers").path("taskmanagers")) {
                out.printf("  TaskManager %s: %d slots, %d free%n", tm.path("id").asText(),
                        tm.path("slotsNumber").asInt(), tm.path("freeSlots").asInt());
            }
            for (JsonNode job : rest.get("/jobs/overview").path("jobs")) {
                out.printf("  job %s %s %s%n", job.path("jid").asText(), job.path("name").asText(),
                        job.path("state").asText());
            }
            return 0;
        } catch (IOException e) {
            out.println("REST API at " + restUrl() + " does not answer: " + e.getMessage());
            return 3;
        }
    }

    /**
     * Submits the pipeline: uploads the cluster jar and runs {@link InflowPipelineJob} with {@code conf} as
     * {@code -Dkey=value} program arguments (and as the job's Flink configuration). Checkpoints go to
     * {@code state/<group>/checkpoints}, retained on cancellation; unless {@code fresh}, the job resumes from the newest
     * completed checkpoint or savepoint there. Returns the job id.
     */
    public String submit(Configuration conf, boolean fresh, PrintStream out) throws IOException, InterruptedException {
        if (!Files.isRegularFile(artifacts.jobJar())) {
            throw new IllegalArgumentException("no cluster jar at " + artifacts.jobJar()
                    + " (build it: mvn -B -q -pl jobs -am package -DskipTests; or give --jar FILE)");
        }
        ClusterRest rest = new ClusterRest(restUrl());
        if (!rest.reachable()) {
            throw new IllegalArgumentException("no cluster answers at " + restUrl() + " (./inflow cluster start"
                    + " --data-dir " + layout.root() + ")");
        }
        for (JsonNode job : rest.get("/jobs/overview").path("jobs")) {
            if (job.path("name").asText().equals(InflowPipelineJob.JOB_NAME)
                    && !Set.of("FINISHED", "CANCELED", "FAILED", "SUSPENDED").contains(job.path("state").asText())) {
                throw new IllegalArgumentException("job " + job.path("jid").asText() + " (" + InflowPipelineJob.JOB_NAME
                        + ") is already " + job.path("state").asText() + " on " + restUrl() + "; cancel it first");
            }
        }
        Configuration job = new Configuration(conf);
        StateDirectory dir = StateDirectory.of(layout.state(), job.get(KafkaOptions.GROUP_ID));
        Optional<RestorePoint> from = Optional.empty();
        if (fresh) {
            dir.moveAside().ifPresent(p -> out.println("starting fresh (--fresh): moved the old state to " + p));
        } else {
            from = dir.latest();
        }
        dir.configure(job, from);
        out.println(from.map(p -> "resuming from " + p.directory() + " (" + p.describe() + ")")
                .orElse("starting without state: sources start at " + job.get(KafkaOptions.STARTING_OFFSETS)));
        Map<String, String> keys = new TreeMap<>(job.toMap());
        ObjectNode body = JSON.createObjectNode();
        body.put("entryClass", InflowPipelineJob.class.getName());
        ArrayNode args = body.putArray("programArgsList");
        keys.forEach((k, v) -> args.add("-D" + k + "=" + v));
        ObjectNode flinkConf = body.putObject("flinkConfiguration");
        keys.forEach(flinkConf::put);
        if (keys.containsKey("parallelism.default")) {
            body.put("parallelism", Integer.parseInt(keys.get("parallelism.default")));
        }
        from.ifPresent(p -> body.put("savepointPath", p.directory().toUri().toString()));
        out.println("uploading " + artifacts.jobJar() + " (" + Files.size(artifacts.jobJar()) / (1 << 20) + " MiB) to "
                + restUrl() + " ...");
        out.flush();
        String jarId = rest.upload(artifacts.jobJar());
        String jobId;
        try {
            jobId = rest.run(jarId, body);
        } finally {
            rest.deleteJar(jarId); // the job's copy lives in the blob server now
        }
        out.println("submitted " + InflowPipelineJob.JOB_NAME + " as job " + jobId + "; checkpoints in "
                + dir.checkpoints() + "; web UI " + restUrl() + "/#/job/running/" + jobId);
        return jobId;
    }

    /**
     * Stops every process: SIGTERM (the JobManager first, then the TaskManagers), SIGKILL after {@code grace}.
     * Running jobs end with the JobManager; their retained checkpoints stay for the next {@code submit}.
     */
    public int stop(PrintStream out, Duration grace) throws InterruptedException {
        int stopped = 0;
        for (String p : processes()) {
            Optional<ProcessHandle> live = layout.alive(p);
            if (live.isPresent()) {
                ProcessHandle h = live.get();
                h.destroy();
                try {
                    h.onExit().get(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    h.destroyForcibly();
                }
                out.println("stopped " + p + " (pid " + h.pid() + ")");
                stopped++;
            }
            layout.removePid(p);
        }
        if (stopped == 0) {
            out.println("nothing running in " + layout.root());
        }
        return stopped;
    }

    private void requireFlinkLib() {
        if (!Files.isDirectory(artifacts.flinkLib())) {
            throw new IllegalArgumentException("no Flink jars at " + artifacts.flinkLib()
                    + " (build them: mvn -B -q -pl jobs -am package -DskipTests; or give --flink-lib DIR)");
        }
    }

    private Properties stored() {
        Properties p = new Properties();
        if (Files.isRegularFile(layout.properties())) {
            try (Reader r = Files.newBufferedReader(layout.properties())) {
                p.load(r);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return p;
    }

    private void writeConfiguration(Options o) throws IOException {
        Properties old = stored();
        int tms = o.taskManagers() > 0 ? o.taskManagers() : Integer.parseInt(old.getProperty("taskmanagers", "2"));
        int slots = o.slots() > 0 ? o.slots() : Integer.parseInt(old.getProperty("slots", "2"));
        int rest = o.restPort() > 0 ? o.restPort() : Integer.parseInt(old.getProperty("rest.port", "8081"));
        int metrics = o.metricsPort() > 0 ? o.metricsPort() : Integer.parseInt(old.getProperty("metrics.port", "9249"));
        int rpc = Integer.parseInt(old.getProperty("rpc.port", Integer.toString(Ports.loopbackPortOr(6123))));
        Properties p = new Properties();
        p.setProperty("taskmanagers", Integer.toString(tms));
        p.setProperty("slots", Integer.toString(slots));
        p.setProperty("rest.port", Integer.toString(rest));
        p.setProperty("metrics.port", Integer.toString(metrics));
        p.setProperty("rpc.port", Integer.toString(rpc));
        Files.createDirectories(layout.conf());
        Files.createDirectories(layout.jars());
        Files.createDirectories(layout.state());
        try (Writer w = Files.newBufferedWriter(layout.properties())) {
            p.store(w, "inflow cluster: written by ./inflow cluster start");
        }
        Map<String, String> c = new java.util.LinkedHashMap<>();
        c.put("jobmanager.rpc.address", "127.0.0.1");
        c.put("jobmanager.rpc.port", Integer.toString(rpc));
        c.put("jobmanager.bind-host", "127.0.0.1");
        c.put("taskmanager.bind-host", "127.0.0.1");
        c.put("taskmanager.host", "127.0.0.1");
        c.put("rest.address", "127.0.0.1");
        c.put("rest.bind-address", "127.0.0.1");
        c.put("rest.port", Integer.toString(rest));
        // the cluster jar carries the models (~220 MB); Flink's default upload limit is 100 MiB
        c.put("rest.server.max-content-length", Integer.toString(1 << 30));
        c.put("web.upload.dir", layout.jars().toString());
        c.put("jobmanager.memory.process.size", "1024m");
        c.put("taskmanager.memory.process.size", "2048m");
        // heap state backend: little managed memory; the encoders' weights and Arrow buffers live on heap / direct
        c.put("taskmanager.memory.managed.fraction", "0.1");
        c.put("taskmanager.numberOfTaskSlots", Integer.toString(slots));
        c.put("parallelism.default", Integer.toString(Math.min(2, tms * slots)));
        c.put("state.backend.type", "hashmap");
        c.put("execution.checkpointing.dir", layout.state().resolve("default").resolve("checkpoints").toUri().toString());
        c.put("execution.checkpointing.savepoint-dir",
                layout.state().resolve("default").resolve("savepoints").toUri().toString());
        c.put("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
        c.put("execution.checkpointing.num-retained", "3");
        c.put("metrics.reporter.prom.factory.class", LocalFlink.PROMETHEUS_FACTORY);
        c.put("metrics.reporter.prom.port", metrics + "-" + (metrics + tms));
        c.putAll(o.extra().toMap());
        StringBuilder yaml = new StringBuilder("# Flink configuration of the inflow session cluster; written by"
                + " ./inflow cluster start (-Dkey=value there adds or overrides keys)\n");
        c.forEach((k, v) -> yaml.append(k).append(": '").append(v.replace("'", "''")).append("'\n"));
        Files.writeString(layout.configYaml(), yaml.toString());
        Files.writeString(layout.conf().resolve("log4j.properties"), LOG4J);
    }

    /** Flink's own log4j.properties, shortened: one file per process ({@code -Dlog.file}). */
    private static final String LOG4J = """
            monitorInterval = 30
            rootLogger.level = INFO
            rootLogger.appenderRef.file.ref = MainAppender
            logger.kafka.name = org.apache.kafka
            logger.kafka.level = WARN
            logger.netty.name = org.apache.flink.shaded.netty4.io.netty.channel.DefaultChannelPipeline
            logger.netty.level = OFF
            appender.main.name = MainAppender
            appender.main.type = RollingFile
            appender.main.append = true
            appender.main.fileName = ${sys:log.file}
            appender.main.filePattern = ${sys:log.file}.%i
            appender.main.layout.type = PatternLayout
            appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
            appender.main.policies.type = Policies
            appender.main.policies.size.type = SizeBasedTriggeringPolicy
            appender.main.policies.size.size = 100MB
            appender.main.strategy.type = DefaultRolloverStrategy
            appender.main.strategy.max = 10
            """;
}
