package io.inflow.e2e.bench;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.e2e.OutputChecks;
import io.inflow.jobs.InflowPipeline;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.jobs.embedded.LocalFlink;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Flink SQL's {@code ML_PREDICT} with the {@code 'inflow'} provider against the DataStream pipeline, in the same JVM
 * on the same preloaded sample texts (parallelism 1, the CPU encoder with the same threads), and against one row per
 * model call ({@code 'max-records'='1'}: what a provider that sends each row to a remote service does, minus the
 * network). Each figure is wall time from job submission until every output is in Kafka (model load and job start
 * included, the same for all), next to the encoder alone on full batches (the ceiling).
 *
 * <pre>
 * mvn -B -q -pl e2e-tests -am -Pbench -DskipTests process-test-classes \
 *     -Dbench.main=io.inflow.e2e.bench.MlPredictBenchmark -Dbench.args="events=3000 perRow=300"
 * </pre>
 */
public final class MlPredictBenchmark {

    private static final String THREADS = "2";

    private MlPredictBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>(Map.of("events", "3000", "perRow", "300", "maxRecords", "64"));
        for (String arg : args) {
            a.put(arg.substring(0, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        int events = Integer.parseInt(a.get("events"));
        int perRow = Integer.parseInt(a.get("perRow"));
        BenchTexts texts = BenchTexts.load();
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(null)) {
            String bootstrap = kafka.bootstrapServers();
            Configuration conf = OutputChecks.namedPipeline(bootstrap, "ds");
            conf.setString("parallelism.default", "1");
            conf.setString("inflow.image.enabled", "false");
            conf.setString("inflow.compute.threads", THREADS);
            conf.setString("execution.checkpointing.interval", "1s");
            KafkaSettings settings = KafkaOptions.settings(conf);
            TopicAdmin.ensureTopics(settings, 1, (short) 1);
            BenchProducer.preload(bootstrap, settings.topics().text(), texts, 0, events);
            BenchProducer.preload(bootstrap, "few.text", texts, 0, perRow);

            double ceiling = Stats.median(EncoderAlone.measure(PipelineSettings.from(conf), texts, 2)
                    .eventsPerSecond());
            double dataStream = dataStream(conf, settings, events);
            double batched = sql(bootstrap, settings.topics().text(), "batched", a.get("maxRecords"), events);
            double oneRow = sql(bootstrap, "few.text", "per-row", "1", perRow);

            System.out.println("\n== ML_PREDICT ('provider'='inflow') vs the DataStream pipeline, MiniLM-L6 on the CPU"
                    + " (" + THREADS + " threads), parallelism 1, sample texts");
            line("encoder alone, full batches (ceiling)     %8.1f rows/s", ceiling);
            line("DataStream pipeline (%d events)          %8.1f rows/s", events, dataStream);
            line("ML_PREDICT, max-records %s (%d rows)      %8.1f rows/s  = %.0f%% of the DataStream pipeline (goal >="
                    + " 90%%: %s)", a.get("maxRecords"), events, batched, 100 * batched / dataStream,
                    batched >= 0.9 * dataStream ? "met" : "NOT met");
            line("ML_PREDICT, one row per call (%d rows)   %8.1f rows/s  (batching across rows: x%.1f)", perRow,
                    oneRow, batched / oneRow);
        }
    }

    private static void line(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
    }

    /** The DataStream pipeline over the preloaded topic: rows/s from submission to the last visible output. */
    private static double dataStream(Configuration conf, KafkaSettings settings, int events) throws Exception {
        try (VisibleOutputs visible = VisibleOutputs.start(settings.bootstrapServers(), settings.topics().enriched(),
                settings.topics().deadLetter())) {
            LocalFlink flink = LocalFlink.withFreePorts(conf);
            StreamExecutionEnvironment env = flink.environment();
            InflowPipeline.build(env, flink.configuration());
            long t0 = System.nanoTime();
            JobClient job = env.executeAsync("bench-datastream");
            if (!visible.awaitCount(events, Duration.ofMinutes(20))) {
                throw new IllegalStateException("DataStream run: only " + visible.count() + " of " + events);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            job.cancel().get(60, TimeUnit.SECONDS);
            OutputCheck.Result check = OutputCheck.everyInputOnce(settings.bootstrapServers(),
                    settings.topics().text(), settings.topics().enriched(), settings.topics().deadLetter());
            if (!check.ok()) {
                throw new IllegalStateException("DataStream run: " + check);
            }
            return events / seconds;
        }
    }

    /** {@code INSERT INTO ... SELECT ... FROM ML_PREDICT(...)} over a bounded Kafka table; rows/s of the job. */
    private static double sql(String bootstrap, String topic, String name, String maxRecords, int rows)
            throws Exception {
        Configuration conf = new Configuration();
        conf.setString("parallelism.default", "1");
        conf.setString("pipeline.name", "bench-sql-" + name);
        conf.setString("table.exec.async-ml-predict.max-concurrent-operations", "256");
        conf.setString("inflow.compute.threads", THREADS);
        conf.setString("inflow.metrics.port", "0");
        TableEnvironment t = TableEnvironment.create(
                EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build());
        t.executeSql("CREATE TABLE events (id STRING, text STRING) WITH ('connector' = 'kafka', 'topic' = '" + topic
                + "', 'properties.bootstrap.servers' = '" + bootstrap + "', 'properties.group.id' = '" + name
                + "', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',"
                + " 'format' = 'json', 'json.ignore-parse-errors' = 'true')");
        t.executeSql("CREATE TABLE out_" + name.replace('-', '_') + " (id STRING, embedding ARRAY<FLOAT>) WITH ("
                + "'connector' = 'kafka', 'topic' = 'sql." + name + "', 'properties.bootstrap.servers' = '"
                + bootstrap + "', 'format' = 'json')");
        t.executeSql("CREATE MODEL embedder INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>) WITH ('provider' ="
                + " 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2', 'max-records' = '" + maxRecords
                + "', 'max-wait' = '50 ms')");
        long t0 = System.nanoTime();
        t.executeSql("INSERT INTO out_" + name.replace('-', '_') + " SELECT id, embedding FROM ML_PREDICT(TABLE"
                + " events, MODEL embedder, DESCRIPTOR(text))").await(20, TimeUnit.MINUTES);
        return rows / ((System.nanoTime() - t0) / 1e9);
    }
}
