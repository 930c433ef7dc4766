package io.inflow.e2e;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.InflowPipeline;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.jobs.embedded.LocalFlink;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.schemas.SourcedText;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * A real Kafka broker plus the pipeline (text and image branches) running on a Flink MiniCluster, for end-to-end tests.
 *
 * <p>{@code try (PipelineUnderTest p = PipelineUnderTest.start(conf, UnaryOperator.identity())) { p.produce(...); }}
 */
final class PipelineUnderTest implements AutoCloseable {

    static final int PARTITIONS = 2;
    /** Runs in this JVM: each gets its own job name, so the process-wide inflow_* series of runs never mix. */
    private static final AtomicInteger RUNS = new AtomicInteger();

    final EmbeddedKafkaBroker kafka;
    final KafkaSettings settings;
    final LocalFlink flink;
    final JobClient job;
    /** The Flink job name: the {@code job} label of the inflow_* metrics. */
    final String jobName;

    private PipelineUnderTest(EmbeddedKafkaBroker kafka, KafkaSettings settings, LocalFlink flink, JobClient job,
            String jobName) {
        this.kafka = kafka;
        this.settings = settings;
        this.flink = flink;
        this.job = job;
        this.jobName = jobName;
    }

    static PipelineUnderTest start(Configuration extra, UnaryOperator<DataStream<SourcedText>> tap)
            throws Exception {
        return start(extra, tap, UnaryOperator.identity());
    }

    /** As {@link #start(Configuration, UnaryOperator)}, with {@code textCompute} wrapped around the text compute. */
    static PipelineUnderTest start(Configuration extra, UnaryOperator<DataStream<SourcedText>> tap,
            UnaryOperator<TextBatchCompute> textCompute) throws Exception {
        EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(null);
        try {
            Configuration conf = new Configuration();
            conf.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
            conf.set(CoreOptions.DEFAULT_PARALLELISM, PARTITIONS);
            conf.addAll(extra);
            KafkaSettings settings = KafkaOptions.settings(conf);
            TopicAdmin.ensureTopics(settings, PARTITIONS, (short) 1);
            LocalFlink flink = LocalFlink.withFreePorts(conf);
            StreamExecutionEnvironment env = flink.environment();
            InflowPipeline.build(env, flink.configuration(), tap, textCompute);
            String jobName = "inflow-e2e-" + RUNS.incrementAndGet();
            JobClient job = env.executeAsync(jobName);
            return new PipelineUnderTest(kafka, settings, flink, job, jobName);
        } catch (Exception | Error e) {
            kafka.close();
            throw e;
        }
    }

    /** Produces key/value pairs to the text topic and returns where each landed, in order. */
    List<RecordMetadata> produce(List<byte[][]> keyValues) throws Exception {
        return produce(settings.topics().text(), keyValues);
    }

    /** Produces key/value pairs to {@code topic} and returns where each landed, in order. */
    List<RecordMetadata> produce(String topic, List<byte[][]> keyValues) throws Exception {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", kafka.bootstrapServers());
        p.setProperty("acks", "all");
        p.setProperty("enable.idempotence", "true");
        p.setProperty("max.request.size", Integer.toString(4 << 20));
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (byte[][] kv : keyValues) {
                sent.add(producer.send(new ProducerRecord<>(topic, kv[0], kv[1])));
            }
            producer.flush();
            List<RecordMetadata> out = new ArrayList<>();
            for (Future<RecordMetadata> f : sent) {
                out.add(f.get(30, TimeUnit.SECONDS));
            }
            return out;
        }
    }

    /**
     * How often Flink restarted the job, from its REST API ({@code numRestarts} of the job). The web server fetches
     * metrics lazily (the first query may answer an empty list), so this asks again for up to 30 s.
     */
    long restarts() throws Exception {
        String url = flink.webUiUrl() + "/jobs/" + job.getJobID() + "/metrics?get=numRestarts";
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.util.regex.Pattern value = java.util.regex.Pattern.compile("\"value\":\"(\\d+)\"");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            java.net.http.HttpResponse<String> r = http.send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            java.util.regex.Matcher m = value.matcher(r.body());
            if (r.statusCode() == 200 && m.find()) {
                return Long.parseLong(m.group(1));
            }
            last = r.statusCode() + " " + r.body();
            Thread.sleep(500);
        }
        throw new AssertionError("no numRestarts from " + url + " within 30 s: " + last);
    }

    OutputAudit audit() {
        return new OutputAudit(kafka.bootstrapServers(), settings.topics().enriched(), settings.topics().deadLetter());
    }

    static byte[] utf8(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws Exception {
        try {
            job.cancel().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            // already failed or finished: nothing to cancel
        } finally {
            kafka.close();
        }
    }
}
