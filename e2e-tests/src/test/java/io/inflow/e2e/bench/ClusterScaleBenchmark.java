package io.inflow.e2e.bench;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.e2e.OutputChecks;
import io.inflow.e2e.StandaloneCluster;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;

import org.apache.flink.configuration.Configuration;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scale-out on the standalone cluster ({@code ./inflow cluster start}: JobManager + 2 TaskManagers x 2 slots): the
 * cluster jar submitted at parallelism 1, 2 and 4 over preloaded events (4 partitions), once with the CPU encoder
 * (MiniLM-L6, the default compute; one encoder per TaskManager shared by its slots) and once with
 * {@code compute=TOKENS} (the pipeline without the model). Each run is verified first (every input offset exactly
 * once, read_committed), then its rate is the visible outputs between 15% and 95% of the total over that time.
 * Printed next to the parallelism-1 run of the same kind (the speed-up) and next to the machine's ceiling (its cores:
 * JobManager, TaskManagers, broker and the benchmark all share them).
 *
 * <pre>
 * mvn -B -q -pl jobs -am package -DskipTests          # the cluster jar and flink-lib
 * mvn -B -q -pl e2e-tests -am -Pbench -DskipTests process-test-classes \
 *     -Dbench.main=io.inflow.e2e.bench.ClusterScaleBenchmark -Dbench.args="events=3000 tokensEvents=40000"
 * </pre>
 */
public final class ClusterScaleBenchmark {

    private static final int PARTITIONS = 4;
    private static final int[] PARALLELISM = {1, 2, 4};

    private ClusterScaleBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>(Map.of("events", "3000", "tokensEvents", "40000"));
        for (String arg : args) {
            a.put(arg.substring(0, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        int cores = Runtime.getRuntime().availableProcessors();
        BenchTexts texts = BenchTexts.load();
        List<String> lines = new ArrayList<>();
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(null);
                StandaloneCluster cluster = StandaloneCluster.create("cluster-scale")) {
            String started = cluster.start("--taskmanagers", "2", "--slots", "2");
            System.out.println(started.lines().filter(l -> l.contains("cluster ready")).findFirst().orElse(started));
            for (String compute : List.of("EMBED", "TOKENS")) {
                int events = Integer.parseInt(a.get(compute.equals("EMBED") ? "events" : "tokensEvents"));
                double base = Double.NaN;
                for (int p : PARALLELISM) {
                    double rate = run(kafka, cluster, texts, compute, p, events);
                    if (p == 1) {
                        base = rate;
                    }
                    String line = String.format(Locale.ROOT, "%-6s parallelism %d: %8.1f events/s  (x%.2f of"
                            + " parallelism 1; ceiling x%d: %d cores shared by 3 Flink JVMs, the broker and this"
                            + " benchmark)", compute, p, rate, rate / base, Math.min(p, cores), cores);
                    System.out.println(line);
                    lines.add(line);
                }
            }
        }
        System.out.println("\n== scale-out on the standalone cluster (" + cores + " cores)");
        lines.forEach(System.out::println);
    }

    /** One run: preload, submit at parallelism p, time the visible outputs, verify, cancel; events/s. */
    private static double run(EmbeddedKafkaBroker kafka, StandaloneCluster cluster, BenchTexts texts, String compute,
            int p, int events) throws Exception {
        String name = "scale-" + compute.toLowerCase(Locale.ROOT) + "-p" + p;
        Configuration conf = OutputChecks.namedPipeline(kafka.bootstrapServers(), name);
        KafkaSettings settings = KafkaOptions.settings(conf);
        TopicAdmin.ensureTopics(settings, PARTITIONS, (short) 1);
        BenchProducer.preload(kafka.bootstrapServers(), settings.topics().text(), texts, 0, events);
        try (VisibleOutputs visible = VisibleOutputs.start(kafka.bootstrapServers(), settings.topics().enriched(),
                settings.topics().deadLetter())) {
            String jobId = StandaloneCluster.jobId(cluster.cli(cluster.submitArgs(conf, kafka.bootstrapServers(),
                    "-Dparallelism.default=" + p, "-Dinflow.text.compute=" + compute, "-Dinflow.image.enabled=false",
                    "-Dexecution.checkpointing.interval=1s", "-Dinflow.embedding.encoding=OMIT")));
            if (!visible.awaitCount(events, Duration.ofMinutes(15))) {
                throw new IllegalStateException(name + ": only " + visible.count() + " of " + events + " outputs");
            }
            cluster.rest().cancel(jobId);
            OutputCheck.Result check = OutputCheck.everyInputOnce(kafka.bootstrapServers(), settings.topics().text(),
                    settings.topics().enriched(), settings.topics().deadLetter());
            if (!check.ok()) {
                throw new IllegalStateException(name + ": output check failed: " + check);
            }
            return rateBetween(visible.timeline(), 0.15 * events, 0.95 * events);
        }
    }

    /** Outputs per second between the polls that first saw {@code from} and {@code to} outputs. */
    private static double rateBetween(List<long[]> timeline, double from, double to) {
        long[] a = timeline.stream().filter(t -> t[1] >= from).findFirst().orElseThrow();
        long[] b = timeline.stream().filter(t -> t[1] >= to).findFirst().orElseThrow();
        return (b[1] - a[1]) * 1000.0 / Math.max(1, b[0] - a[0]);
    }
}
