package io.inflow.e2e;

import io.inflow.jobs.cluster.ClusterLayout;
import io.inflow.jobs.cluster.ClusterRest;
import io.inflow.jobs.cluster.SessionCluster;
import io.inflow.jobs.embedded.Ports;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A standalone session cluster for one test class, driven as a user drives it: {@code ./inflow cluster start},
 * {@code submit}, {@code status} (io.inflow.jobs.cli.Main in its own JVM, output kept under
 * {@code target/<dir>/cli-N-<command>.log}), the REST API, and {@code kill -9} through the pid files. Skips the test
 * (with the reason) when the cluster jar or {@code flink-lib} is missing: {@code mvn verify} packages them first.
 *
 * <pre>{@code
 * StandaloneCluster c = StandaloneCluster.create("cluster-stall");
 * c.start("--taskmanagers", "2", "--slots", "2");
 * String jobId = StandaloneCluster.jobId(c.cli(c.submitArgs(conf, "-Dparallelism.default=4")));
 * c.close();
 * }</pre>
 */
public final class StandaloneCluster implements AutoCloseable {

    private static final Pattern JOB_ID = Pattern.compile("as job ([0-9a-f]{32})");

    private final Path dir;
    private final ClusterLayout layout;
    private final SessionCluster cluster;
    private final int restPort;
    private final int metricsPort;
    private int cliRuns;

    private StandaloneCluster(Path dir, SessionCluster.Artifacts artifacts) throws IOException {
        this.dir = dir;
        this.layout = new ClusterLayout(dir.resolve("cluster"));
        this.cluster = new SessionCluster(layout, artifacts);
        this.restPort = Ports.freeLoopbackPort();
        this.metricsPort = freeRun(3);
        // a test JVM that ends early must not leave the cluster's JVMs behind (they run in their own session)
        Runtime.getRuntime().addShutdownHook(new Thread(this::close));
    }

    /** A cluster under {@code target/<name>} (emptied first); the test is skipped when the artifacts are missing. */
    public static StandaloneCluster create(String name) throws IOException {
        SessionCluster.Artifacts artifacts = SessionCluster.Artifacts.locate(null, null);
        Assumptions.assumeTrue(Files.isRegularFile(artifacts.jobJar()) && Files.isDirectory(artifacts.flinkLib()),
                "no cluster jar / flink-lib at " + artifacts + ": run `mvn -B verify` (or package the jobs module)");
        Path dir = Path.of("target", name).toAbsolutePath();
        if (Files.exists(dir)) {
            try (Stream<Path> old = Files.walk(dir)) {
                old.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        Files.createDirectories(dir);
        return new StandaloneCluster(dir, artifacts);
    }

    /** The test's directory ({@code target/<name>}). */
    public Path dir() {
        return dir;
    }

    public ClusterLayout layout() {
        return layout;
    }

    public ClusterRest rest() {
        return new ClusterRest("http://127.0.0.1:" + restPort);
    }

    /**
     * {@code ./inflow cluster start} with this cluster's data directory, REST and metrics ports, and a 1 s / 5 s
     * heartbeat (Flink's 10 s / 50 s would add up to 50 s to noticing a dead TaskManager); its output.
     */
    public String start(String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("cluster", "start", "--data-dir", layout.root().toString(),
                "--rest-port", Integer.toString(restPort), "--metrics-port", Integer.toString(metricsPort),
                "-Dheartbeat.interval=1000", "-Dheartbeat.timeout=5000"));
        args.addAll(List.of(options));
        return cli(args.toArray(String[]::new));
    }

    /** {@code ./inflow cluster start} again: starts whichever process is not running. */
    public String restartMissing() throws Exception {
        return cli("cluster", "start", "--data-dir", layout.root().toString());
    }

    public String status() throws Exception {
        return cli("cluster", "status", "--data-dir", layout.root().toString());
    }

    /** The arguments of {@code ./inflow cluster submit}: every key of {@code conf} as {@code -D}, then {@code extra}. */
    public String[] submitArgs(Configuration conf, String bootstrapServers, String... extra) {
        List<String> submit = new ArrayList<>(List.of("cluster", "submit", "--data-dir", layout.root().toString(),
                "--bootstrap-servers", bootstrapServers));
        conf.toMap().forEach((k, v) -> submit.add("-D" + k + "=" + v));
        submit.addAll(List.of(extra));
        return submit.toArray(String[]::new);
    }

    /** Runs {@code ./inflow <args>} to its end and asserts it succeeded; its output. */
    public String cli(String... args) throws Exception {
        Path log = dir.resolve("cli-" + (++cliRuns) + "-" + args[1] + ".log");
        int rc = PipelineProcess.runToEnd(log, List.of(args), 300);
        String out = Files.readString(log);
        assertThat(rc).as("./inflow %s:\n%s", String.join(" ", args), out).isZero();
        return out;
    }

    /** The job id {@code cluster submit} printed. */
    public static String jobId(String submitOutput) {
        Matcher m = JOB_ID.matcher(submitOutput);
        assertThat(m.find()).as("job id in:\n%s", submitOutput).isTrue();
        return m.group(1);
    }

    /** {@code kill -9} of a cluster process ({@link ClusterLayout#JOBMANAGER}, {@code taskmanager-N}). */
    public void kill(String process) {
        ProcessHandle.of(layout.pid(process).orElseThrow()).ifPresent(ProcessHandle::destroyForcibly);
    }

    /** Id of the newest completed checkpoint of the job (0 when none or the REST API does not answer). */
    public long latestCheckpoint(String jobId) {
        return checkpoints(jobId).path("latest").path("completed").path("id").asLong(0);
    }

    /** {@code GET /jobs/<id>/checkpoints} (an empty node when the REST API does not answer). */
    public JsonNode checkpoints(String jobId) {
        try {
            return rest().get("/jobs/" + jobId + "/checkpoints");
        } catch (IOException e) {
            return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        }
    }

    /** {@code cluster stop}; quiet, and safe to call twice. */
    @Override
    public void close() {
        try {
            cluster.stop(new PrintStream(PrintStream.nullOutputStream()), Duration.ofSeconds(20));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The first of {@code n} consecutive loopback ports that are free now. */
    public static int freeRun(int n) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = Ports.freeLoopbackPort();
            boolean free = true;
            for (int i = 1; i < n && free; i++) {
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), base + i), 1);
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free && base + n < 65536) {
                return base;
            }
        }
        throw new IOException("no " + n + " consecutive free ports");
    }
}
