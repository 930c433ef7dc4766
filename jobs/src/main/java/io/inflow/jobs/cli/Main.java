package io.inflow.jobs.cli;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.InflowPipeline;
import io.inflow.jobs.InflowPipelineJob;
import io.inflow.jobs.cluster.ClusterLayout;
import io.inflow.jobs.cluster.SessionCluster;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.demo.DemoRunner;
import io.inflow.jobs.embedded.LocalFlink;
import io.inflow.jobs.recovery.ResumableJob;
import io.inflow.jobs.recovery.RunningJob;
import io.inflow.jobs.recovery.StateDirectory;
import io.inflow.jobs.recovery.StateOptions;
import io.inflow.jobs.recovery.StopSignal;
import io.inflow.jobs.recovery.StopWithSavepoint;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@code inflow} command line (see {@link #USAGE}); the {@code ./inflow} script at the repository root builds
 * the project and calls it.
 */
public final class Main {

    static final String USAGE = """
            Usage: ./inflow <command> [options] [--config FILE] [-Dkey=value ...]

            Commands:
              demo    Start a Kafka broker (KRaft, loopback) and a local Flink cluster, run the text pipeline on the
                      bundled sample (1,200 texts + 12 malformed records), print enriched and dead-lettered records
                      and the metrics URL, then stop everything.
                        --keep-running      keep broker and job running after the sample (Ctrl-C stops;
                                            with --data-dir it takes a final savepoint)
                        --data-dir DIR      keep the broker's data and the job's checkpoints in DIR (default:
                                            temporary, deleted on exit); run again with the same DIR after a
                                            crash and the demo resumes where it was
                        --timeout SECONDS   give up waiting for the sample's outputs after this long (default 300)
                        --fresh             with --data-dir: discard the demo's job state (moved aside)
              run     Run the pipeline on a local Flink cluster against an existing Kafka cluster. Checkpoints
                      go to the state directory and are kept on failure: after a crash (kill -9, power loss)
                      the same command resumes from the newest completed checkpoint or savepoint and says so.
                      Ctrl-C stops with a final savepoint (Ctrl-C twice: at once, resume from the checkpoint).
                        --bootstrap-servers HOST:PORT   (or -Dinflow.kafka.bootstrap-servers=...)
                        --create-topics                 create missing topics first
                        --state-dir DIR                 checkpoints and savepoints (default ~/.inflow/state, or
                                                        -Dinflow.state.dir=DIR); one sub-directory per
                                                        consumer group (inflow.kafka.group-id)
                        --fresh                         start without the old state (moved aside, not deleted):
                                                        sources start at inflow.kafka.starting-offsets
              stop    Stop the pipeline that 'run' (or 'demo --data-dir') is running, with a final savepoint;
                      the next 'run' resumes from it. Same --state-dir / -Dinflow.kafka.group-id as the run
                      (or --data-dir DIR for the demo).
              quantize  Quantize a bundled encoder for the integer-only INT8 path (I-ViT): calibrate on
                      texts (or images), write model.safetensors (int8 weights, int32 biases, dyadic
                      requantisation) and report.json / report.md (bits per layer, size, accuracy against float on
                      held-out inputs, calibration statistics) to --out.
                        --model NAME        all-minilm-l6-v2 (default), bge-small-en-v15, vit-fashion-mnist or a
                                            ViT directory (config.json + safetensors)
                        --images N          image models: calibrate on the first N images (default 256); the
                                            next --held-out N (default 256) measure agreement with float;
                                            --calibration is then a directory of images or an IDX image file
                                            (default: 512 bundled Fashion-MNIST train images)
                        --out DIR           where to write (required)
                        --calibration FILE  texts, one per line, or JSON Lines text events (default: the bundled
                                            128 texts, gpu/src/main/resources/calibration/text-calibration.txt)
                        --texts N           calibrate on the first N texts (default 64)
                        --held-out N        measure accuracy on the next N texts (default 64)
                        --max-tokens N      truncation (default 128)
                        --smoothing ALPHA   SmoothQuant strength for LayerNorm outputs, 0..1 (default 0.8)
                        --threads N         CPU threads (default: available processors)
                        --size-budget F     layer-wise mixed INT4/INT8: the layers' weights at most F (0.5..1) of
                                            their INT8 size, least important layers at 4 bits (default 1: INT8)
              cluster start   Start a standalone Flink session cluster from the Maven jars (jobs/target/flink-lib):
                      a JobManager and TaskManagers as separate JVMs (memory flags as Flink's scripts compute them),
                      web UI and REST API, a Prometheus port per process, checkpoints under the data directory.
                      Starts only what is not running (a killed TaskManager or JobManager comes back).
                        --data-dir DIR        pid files, logs, conf/, state/ (default ~/.inflow/cluster)
                        --taskmanagers N      (default 2)     --slots N   slots per TaskManager (default 2)
                        --rest-port N         web UI / REST (default 8081)
                        --metrics-port N      Prometheus: JobManager N, TaskManager i N+i (default 9249)
                        -Dkey=value           extra Flink configuration written to DIR/conf/config.yaml
              cluster status  Processes, TaskManagers, slots and jobs of the cluster (REST /overview, /taskmanagers).
              cluster submit  Upload the cluster jar (jobs/target/inflow-jobs-*-flink.jar) over REST and run the
                      pipeline with the same options and -D keys as 'run' (--bootstrap-servers, --create-topics,
                      --fresh); resumes from the newest retained checkpoint in DIR/state/<group> unless --fresh.
                        --jar FILE            another cluster jar
              cluster stop    SIGTERM to the JobManager, then the TaskManagers (SIGKILL after 30 s).
              sql     Flink's SQL client (embedded mode) with Inflow's ML_PREDICT provider ('provider' = 'inflow'),
                      Kafka tables and JSON, on a local Flink cluster; starts the demo's broker and sample first unless
                      --bootstrap-servers is given. ./inflow sql --help lists its options (-f FILE, -i FILE, ...).
              help    Show this text.

            Configuration: any Flink or Inflow key with -Dkey=value or in a --config file of 'key: value' lines,
            e.g. -Dinflow.batch.max-records=32 -Dinflow.kafka.delivery-guarantee=at-least-once.
            The keys are listed in README.md. To run on a Flink cluster instead, see jobs/README.md
            (flink run -c io.inflow.jobs.InflowPipelineJob ...).
            """;

    private Main() {
    }

    public static void main(String[] args) {
        PrintStream out = System.out;
        int rc;
        try {
            rc = run(CommandLine.parse(args), out);
        } catch (IllegalArgumentException e) {
            System.err.println("inflow: " + e.getMessage());
            rc = 2;
        } catch (Exception e) {
            System.err.println("inflow: failed: " + e);
            e.printStackTrace();
            rc = 1;
        }
        // the command line owns this JVM: end it so no broker or Flink thread lingers
        System.exit(rc);
    }

    /**
     * Fails before the job starts when an input topic is missing (Flink's Kafka source would fail later with a
     * metadata error): says which topic, and the two ways out.
     */
    static void requireInputTopics(PipelineSettings settings) {
        List<String> inputs = new ArrayList<>(List.of(settings.kafka().topics().text()));
        if (settings.imagesEnabled()) {
            inputs.add(settings.kafka().topics().image());
        }
        List<String> missing = TopicAdmin.missing(settings.kafka(), inputs);
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("input topic(s) " + missing + " do not exist on "
                    + settings.kafka().bootstrapServers() + ": create them (or run with --create-topics)"
                    + (missing.contains(settings.kafka().topics().image())
                            ? ", or set -Dinflow.image.enabled=false to run the text pipeline only" : ""));
        }
    }

    /**
     * The pipeline's state directory: {@code --data-dir DIR} (the demo's, {@code DIR/flink-state}), else
     * {@code --state-dir DIR} or {@code inflow.state.dir} or {@code ~/.inflow/state}, with one sub-directory per
     * consumer group.
     */
    static StateDirectory stateDirectory(CommandLine cl, Configuration conf) {
        if (cl.value("--data-dir") != null) {
            return DemoRunner.stateDirectory(Path.of(cl.value("--data-dir")));
        }
        Configuration c = new Configuration(conf);
        if (cl.value("--state-dir") != null) {
            c.set(StateOptions.STATE_DIR, cl.value("--state-dir"));
        }
        return StateDirectory.of(StateOptions.stateDir(c), c.get(KafkaOptions.GROUP_ID));
    }

    /** {@code ./inflow stop}: stop with savepoint through the running job's REST API, then wait for its exit. */
    static int stop(CommandLine cl, PrintStream out) throws Exception {
        Configuration conf = cl.configuration();
        StateDirectory dir = stateDirectory(cl, conf);
        RunningJob.Info info = RunningJob.find(dir).orElseThrow(() -> new IllegalArgumentException(
                "no running pipeline uses " + dir.root() + " (give the run's --state-dir / -Dinflow.kafka.group-id,"
                        + " or --data-dir for the demo)"));
        Duration timeout = conf.get(StateOptions.STOP_TIMEOUT);
        out.println("stopping job " + info.jobId() + " (pid " + info.pid() + ", " + info.restUrl()
                + ") with a savepoint ...");
        out.flush();
        Instant asked = Instant.now().minusSeconds(1); // file times may be coarse
        String savepoint;
        try {
            savepoint = StopWithSavepoint.viaRest(info.restUrl(), info.jobId(), dir.savepoints(), timeout);
        } catch (IOException e) {
            // a local job's cluster shuts down as soon as the job finished, which can be before the last poll:
            // then the savepoint the stop wrote is on disk
            savepoint = awaitExit(info, timeout) ? dir.completed().stream()
                    .filter(p -> p.savepoint() && !p.takenAt().isBefore(asked)).map(p -> p.directory().toString())
                    .reduce((a, b) -> b).orElseThrow(() -> e) : null;
            if (savepoint == null) {
                throw e;
            }
        }
        out.println("savepoint " + savepoint + "; the same run command resumes from it");
        if (!awaitExit(info, timeout)) {
            out.println("process " + info.pid() + " is still running after " + timeout);
            return 1;
        }
        out.println("process " + info.pid() + " exited");
        return 0;
    }

    /** Whether the process of {@code info} has ended (or ends within {@code timeout}). */
    /**
     * The configuration of {@code run} and {@code cluster submit}: the {@code -D} keys and {@code --bootstrap-servers},
     * checked against the broker before anything starts (input topics exist, or are created with
     * {@code --create-topics}; the output topics accept the largest record).
     */
    private static Configuration checkedRunConfiguration(CommandLine cl) {
        Configuration conf = new Configuration(cl.configuration());
        String bootstrap = cl.value("--bootstrap-servers");
        if (bootstrap != null) {
            conf.set(KafkaOptions.BOOTSTRAP_SERVERS, bootstrap);
        }
        PipelineSettings settings = PipelineSettings.from(conf);
        if (cl.has("--create-topics")) {
            TopicAdmin.ensureTopics(settings.kafka(), 1, (short) 1);
        } else {
            requireInputTopics(settings);
        }
        TopicAdmin.checkOutputLimits(settings.kafka());
        return conf;
    }

    private static boolean awaitExit(RunningJob.Info info, Duration timeout) throws InterruptedException {
        Optional<ProcessHandle> process = ProcessHandle.of(info.pid());
        if (process.isEmpty()) {
            return true;
        }
        try {
            process.get().onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            return false;
        }
    }

    /** {@code ./inflow cluster start|status|submit|stop}: see {@link SessionCluster}. */
    static int cluster(CommandLine cl, PrintStream out) throws Exception {
        String dir = cl.value("--data-dir");
        SessionCluster cluster = new SessionCluster(dir == null ? ClusterLayout.defaultLocation()
                : new ClusterLayout(Path.of(dir).toAbsolutePath()),
                SessionCluster.Artifacts.locate(cl.value("--flink-lib"), cl.value("--jar")));
        switch (cl.command()) {
            case "cluster start" -> {
                cluster.start(new SessionCluster.Options(intFlag(cl, "--taskmanagers", 0), intFlag(cl, "--slots", 0),
                        intFlag(cl, "--rest-port", 0), intFlag(cl, "--metrics-port", 0), cl.configuration()), out,
                        Duration.ofMinutes(3));
                return 0;
            }
            case "cluster status" -> {
                return cluster.status(out);
            }
            case "cluster submit" -> {
                Configuration conf = checkedRunConfiguration(cl);
                cluster.submit(conf, cl.has("--fresh"), out);
                return 0;
            }
            default -> {
                cluster.stop(out, Duration.ofSeconds(30));
                return 0;
            }
        }
    }

    /** {@code ./inflow quantize}: see {@link io.inflow.gpu.quant.TextQuantization}. */
    static int quantize(CommandLine cl, PrintStream out) throws Exception {
        String outDir = cl.value("--out");
        if (outDir == null) {
            throw new IllegalArgumentException("quantize needs --out DIR (where model.safetensors and the report go)");
        }
        String cal = cl.value("--calibration");
        String model = cl.value("--model") == null ? "all-minilm-l6-v2" : cl.value("--model");
        if (io.inflow.gpu.quant.ImageQuantization.isImageModel(model)) {
            for (String textOnly : List.of("--texts", "--max-tokens", "--size-budget")) {
                if (cl.value(textOnly) != null) {
                    throw new IllegalArgumentException(textOnly + " is for text models; " + model + " is an image"
                            + " model (use --images N; mixed INT4/INT8 is text-only for now)");
                }
            }
            io.inflow.gpu.quant.ImageQuantization.Result r = io.inflow.gpu.quant.ImageQuantization.run(
                    new io.inflow.gpu.quant.ImageQuantization.Options(model, cal == null ? null : Path.of(cal),
                            intFlag(cl, "--images", 256), intFlag(cl, "--held-out", 256),
                            cl.value("--smoothing") == null ? 0.8 : number(cl, "--smoothing"), Path.of(outDir),
                            intFlag(cl, "--threads", Runtime.getRuntime().availableProcessors())), out);
            out.printf(java.util.Locale.ROOT, "model %s%nreport %s (and report.md)%nsize %.1f MB -> %.1f MB%n",
                    r.modelFile(), r.report(), r.floatBytes() / 1e6, r.quantizedBytes() / 1e6);
            return 0;
        }
        if (cl.value("--images") != null) {
            throw new IllegalArgumentException("--images is for image models; " + model + " is a text model (use"
                    + " --texts N)");
        }
        io.inflow.gpu.quant.TextQuantization.Result r = io.inflow.gpu.quant.TextQuantization.run(
                new io.inflow.gpu.quant.TextQuantization.Options(
                        model, cal == null ? null : Path.of(cal), intFlag(cl, "--texts", 64), intFlag(cl, "--held-out", 64),
                        intFlag(cl, "--max-tokens", 128),
                        cl.value("--smoothing") == null ? 0.8 : number(cl, "--smoothing"), Path.of(outDir),
                        intFlag(cl, "--threads", Runtime.getRuntime().availableProcessors()),
                        cl.value("--size-budget") == null ? 1.0 : number(cl, "--size-budget")), out);
        out.printf(java.util.Locale.ROOT, "model %s%nreport %s (and report.md)%nsize %.1f MB -> %.1f MB%n",
                r.modelFile(), r.report(), r.floatBytes() / 1e6, r.quantizedBytes() / 1e6);
        return 0;
    }

    private static int intFlag(CommandLine cl, String flag, int dflt) {
        String v = cl.value(flag);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " takes a whole number (found '" + v + "')");
        }
    }

    private static double number(CommandLine cl, String flag) {
        String v = cl.value(flag);
        try {
            double d = Double.parseDouble(v.strip());
            if (!(d >= 0 && d <= 1)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " takes a number from 0 to 1 (found '" + v + "')");
        }
    }

    static int run(CommandLine cl, PrintStream out) throws Exception {
        switch (cl.command()) {
            case "quantize" -> {
                return quantize(cl, out);
            }
            case "demo" -> {
                String dir = cl.value("--data-dir");
                String timeout = cl.value("--timeout");
                return new DemoRunner(out).run(new DemoRunner.Options(cl.has("--keep-running"),
                        dir == null ? null : Path.of(dir),
                        Duration.ofSeconds(timeout == null ? 300 : Long.parseLong(timeout)), cl.configuration(),
                        cl.has("--fresh")));
            }
            case "run" -> {
                Configuration conf = checkedRunConfiguration(cl);
                try (ResumableJob state = ResumableJob.prepare(stateDirectory(cl, conf), conf, cl.has("--fresh"),
                        out)) {
                    LocalFlink flink = LocalFlink.withFreePorts(conf);
                    StreamExecutionEnvironment env = flink.environment();
                    InflowPipeline.build(env, flink.configuration());
                    JobClient job = env.executeAsync(InflowPipelineJob.JOB_NAME);
                    state.started(job, flink.webUiUrl());
                    out.println("running " + InflowPipelineJob.JOB_NAME + " (job " + job.getJobID() + ") against "
                            + conf.get(KafkaOptions.BOOTSTRAP_SERVERS) + "; state in " + state.directory().root()
                            + "; web UI " + flink.webUiUrl() + ", metrics " + flink.metricsUrl() + " (Flink's: "
                            + flink.flinkMetricsUrl() + "); Ctrl-C stops with a savepoint");
                    out.flush();
                    return state.awaitEnd(job, StopSignal.install(out), out);
                }
            }
            case "stop" -> {
                return stop(cl, out);
            }
            case "cluster start", "cluster status", "cluster submit", "cluster stop" -> {
                return cluster(cl, out);
            }
            case "sql" -> throw new IllegalArgumentException("'sql' runs on its own classpath: start it with the"
                    + " ./inflow script (./inflow sql --help), or java -cp 'sql-client/target/inflow-sql-client-*.jar:"
                    + "sql-client/target/lib/*' io.inflow.sqlclient.InflowSqlClient");
            case "help", "--help", "-h" -> {
                out.print(USAGE);
                return 0;
            }
            default -> throw new IllegalArgumentException("unknown command '" + cl.command() + "'\n" + USAGE);
        }
    }
}
