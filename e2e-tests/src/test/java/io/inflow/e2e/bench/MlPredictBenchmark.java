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

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
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
    private static final ObjectMapper JSON = new ObjectMapper();

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
            // the broker creates no topic on first use: the SQL runs' input and outputs are made here
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic("few.text", 1, (short) 1),
                        new NewTopic("sql.batched", 1, (short) 1), new NewTopic("sql.per-row", 1, (short) 1)))
                        .all().get(60, TimeUnit.SECONDS);
            }
            BenchProducer.preload(bootstrap, settings.topics().text(), texts, 0, events);
            BenchProducer.preload(bootstrap, "few.text", texts, 0, perRow);

            double ceiling = Stats.median(EncoderAlone.measure(PipelineSettings.from(conf), texts, 2)
                    .eventsPerSecond());
            Rates dataStream = dataStream(conf, settings, events);
            Rates batched = sql(bootstrap, settings.topics().text(), "batched", a.get("maxRecords"), events);
            Rates oneRow = sql(bootstrap, "few.text", "per-row", "1", perRow);

            System.out.println("\n== ML_PREDICT ('provider'='inflow') vs the DataStream pipeline, MiniLM-L6 on the CPU"
                    + " (" + THREADS + " threads), parallelism 1, sample texts, both exactly-once to Kafka (1 s"
                    + " checkpoints); rows/s: steady (rows computed while the job runs, from a tenth to nine tenths)"
                    + " and end to end (submission to last visible output, job start included)");
            line("encoder alone, full batches (ceiling)        %8.1f", ceiling);
            line("DataStream pipeline (%5d events)           %8.1f steady  %8.1f end to end", events,
                    dataStream.steady(), dataStream.total());
            line("ML_PREDICT, max-records %-4s (%5d rows)     %8.1f steady  %8.1f end to end", a.get("maxRecords"),
                    events, batched.steady(), batched.total());
            line("ML_PREDICT, one row per call (%5d rows)     %8.1f steady  %8.1f end to end", perRow,
                    oneRow.steady(), oneRow.total());
            double share = batched.steady() / dataStream.steady();
            line("ML_PREDICT / DataStream: %.0f%% steady (goal >= 90%%: %s), %.0f%% end to end", 100 * share,
                    share >= 0.9 ? "met" : "NOT met", 100 * batched.total() / dataStream.total());
            line("batching across rows: x%.1f steady (max-records %s against 1)", batched.steady() / oneRow.steady(),
                    a.get("maxRecords"));
            line("ML_PREDICT steady against the encoder alone: %.0f%%", 100 * batched.steady() / ceiling);
        }
    }

    /** Every input row once in the SQL job's output, each with a 384-value embedding. */
    private static void checkSqlOutput(String bootstrap, String topic, int rows) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", bootstrap);
        p.setProperty("group.id", "bench-check-" + UUID.randomUUID());
        p.setProperty("isolation.level", "read_committed");
        p.setProperty("auto.offset.reset", "earliest");
        Set<String> ids = new HashSet<>();
        long records = 0;
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (records < rows && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                    JsonNode row = readJson(r.value());
                    if (row.path("embedding").size() != 384) {
                        throw new IllegalStateException(topic + ": a row without a 384-value embedding: " + row);
                    }
                    ids.add(row.path("id").asText());
                    records++;
                }
            }
        }
        if (records != rows || ids.size() != rows) {
            throw new IllegalStateException(topic + ": " + records + " records with " + ids.size()
                    + " distinct ids for " + rows + " input rows");
        }
    }

    private static JsonNode readJson(String value) {
        try {
            return JSON.readTree(value);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("not JSON: " + value, e);
        }
    }

    private static void line(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
    }

    /**
     * Rows/s of one run: {@code total} from job submission to the last visible output (job start and model load
     * included), {@code steady} the compute rate while the job runs ({@link ComputedRows}: from a tenth to nine
     * tenths of the rows computed).
     */
    record Rates(double total, double steady) {
        static Rates of(long t0Millis, VisibleOutputs visible, ComputedRows computed, long rows) {
            List<long[]> timeline = visible.timeline();
            long[] last = timeline.get(timeline.size() - 1);
            return new Rates(rows * 1000.0 / (last[0] - t0Millis), computed.rate(rows));
        }
    }

    /** The DataStream pipeline over the preloaded topic. */
    private static Rates dataStream(Configuration conf, KafkaSettings settings, int events) throws Exception {
        try (VisibleOutputs visible = VisibleOutputs.start(settings.bootstrapServers(), settings.topics().enriched(),
                settings.topics().deadLetter()); ComputedRows computed = ComputedRows.start("embed")) {
            LocalFlink flink = LocalFlink.withFreePorts(conf);
            StreamExecutionEnvironment env = flink.environment();
            InflowPipeline.build(env, flink.configuration());
            long t0 = System.currentTimeMillis();
            JobClient job = env.executeAsync("bench-datastream");
            if (!visible.awaitCount(events, Duration.ofMinutes(20))) {
                throw new IllegalStateException("DataStream run: only " + visible.count() + " of " + events);
            }
            Rates rates = Rates.of(t0, visible, computed, events);
            job.cancel().get(60, TimeUnit.SECONDS);
            OutputCheck.Result check = OutputCheck.everyInputOnce(settings.bootstrapServers(),
                    settings.topics().text(), settings.topics().enriched(), settings.topics().deadLetter());
            if (!check.ok()) {
                throw new IllegalStateException("DataStream run: " + check);
            }
            return rates;
        }
    }

    /** {@code INSERT INTO ... SELECT ... FROM ML_PREDICT(...)} over a bounded Kafka table; rows/s of the job. */
    private static Rates sql(String bootstrap, String topic, String name, String maxRecords, int rows)
            throws Exception {
        Configuration conf = new Configuration();
        conf.setString("parallelism.default", "1");
        conf.setString("pipeline.name", "bench-sql-" + name);
        conf.setString("table.exec.async-ml-predict.max-concurrent-operations", "256");
        conf.setString("inflow.compute.threads", THREADS);
        conf.setString("inflow.metrics.port", "0");
        // as the DataStream run: exactly-once output, visible to read_committed consumers at each 1 s checkpoint
        conf.setString("execution.checkpointing.interval", "1s");
        TableEnvironment t = TableEnvironment.create(
                EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build());
        t.executeSql("CREATE TABLE events (id STRING, text STRING) WITH ('connector' = 'kafka', 'topic' = '" + topic
                + "', 'properties.bootstrap.servers' = '" + bootstrap + "', 'properties.group.id' = '" + name
                + "', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',"
                + " 'format' = 'json', 'json.ignore-parse-errors' = 'true')");
        t.executeSql("CREATE TABLE out_" + name.replace('-', '_') + " (id STRING, embedding ARRAY<FLOAT>) WITH ("
                + "'connector' = 'kafka', 'topic' = 'sql." + name + "', 'sink.delivery-guarantee' = 'exactly-once',"
                + " 'sink.transactional-id-prefix' = 'bench-sql-" + name + "',"
                + " 'properties.transaction.timeout.ms' = '600000', 'properties.bootstrap.servers' = '"
                + bootstrap + "', 'format' = 'json')");
        t.executeSql("CREATE MODEL embedder INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>) WITH ('provider' ="
                + " 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2', 'max-records' = '" + maxRecords
                + "', 'max-wait' = '50 ms')");
        try (VisibleOutputs visible = VisibleOutputs.start(bootstrap, "sql." + name);
             ComputedRows computed = ComputedRows.start("ml-predict")) {
            long t0 = System.currentTimeMillis();
            t.executeSql("INSERT INTO out_" + name.replace('-', '_') + " SELECT id, embedding FROM ML_PREDICT(TABLE"
                    + " events, MODEL embedder, DESCRIPTOR(text))").await(20, TimeUnit.MINUTES);
            if (!visible.awaitCount(rows, Duration.ofMinutes(1))) {
                throw new IllegalStateException("ML_PREDICT " + name + ": only " + visible.count() + " of " + rows
                        + " rows in sql." + name);
            }
            Rates rates = Rates.of(t0, visible, computed, rows);
            checkSqlOutput(bootstrap, "sql." + name, rows);
            return rates;
        }
    }
}
