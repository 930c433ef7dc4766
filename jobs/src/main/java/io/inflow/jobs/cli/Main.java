package io.inflow.jobs.cli;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.InflowPipeline;
import io.inflow.jobs.InflowPipelineJob;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.demo.DemoRunner;
import io.inflow.jobs.embedded.LocalFlink;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;

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
                        --keep-running      keep broker and job running after the sample (Ctrl-C stops)
                        --data-dir DIR      keep the broker's data in DIR (default: temporary, deleted on exit)
                        --timeout SECONDS   give up waiting for the sample's outputs after this long (default 300)
              run     Run the text pipeline on a local Flink cluster against an existing Kafka cluster.
                        --bootstrap-servers HOST:PORT   (or -Dinflow.kafka.bootstrap-servers=...)
                        --create-topics                 create missing topics first
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

    static int run(CommandLine cl, PrintStream out) throws Exception {
        switch (cl.command()) {
            case "demo" -> {
                String dir = cl.value("--data-dir");
                String timeout = cl.value("--timeout");
                return new DemoRunner(out).run(new DemoRunner.Options(cl.has("--keep-running"),
                        dir == null ? null : Path.of(dir),
                        Duration.ofSeconds(timeout == null ? 300 : Long.parseLong(timeout)), cl.configuration()));
            }
            case "run" -> {
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
                LocalFlink flink = LocalFlink.withFreePorts(conf);
                StreamExecutionEnvironment env = flink.environment();
                InflowPipeline.build(env, flink.configuration());
                out.println("running " + InflowPipelineJob.JOB_NAME + " against " + settings.kafka().bootstrapServers()
                        + "; web UI " + flink.webUiUrl() + ", metrics " + flink.metricsUrl() + " (Flink's: "
                        + flink.flinkMetricsUrl() + "); Ctrl-C stops");
                env.execute(InflowPipelineJob.JOB_NAME);
                return 0;
            }
            case "help", "--help", "-h" -> {
                out.print(USAGE);
                return 0;
            }
            default -> throw new IllegalArgumentException("unknown command '" + cl.command() + "'\n" + USAGE);
        }
    }
}
