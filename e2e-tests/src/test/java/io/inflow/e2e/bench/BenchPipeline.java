package io.inflow.e2e.bench;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.InflowPipeline;
import io.inflow.jobs.config.ImageOptions;
import io.inflow.jobs.demo.PromSample;
import io.inflow.jobs.embedded.LocalFlink;
import io.inflow.operators.embed.TextBatchCompute;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * One benchmark run of the text pipeline on a Flink MiniCluster in this JVM, against the benchmark's broker, with its
 * own topics ({@code <name>.text}, {@code <name>.enriched}, {@code <name>.dlq}), consumer group, transactional ids and
 * job name, so runs never see each other's records or metrics. The image branch is off.
 *
 * <p>{@code try (BenchPipeline p = BenchPipeline.create(bootstrap, "b1", conf)) { p.start(c -> c); ... }}
 */
final class BenchPipeline implements AutoCloseable {

    final String name;
    final String jobName;
    final KafkaSettings settings;
    private final Configuration conf;
    private LocalFlink flink;
    private JobClient job;

    private BenchPipeline(String name, Configuration conf, KafkaSettings settings) {
        this.name = name;
        this.jobName = "inflow-bench-" + name;
        this.conf = conf;
        this.settings = settings;
    }

    /** Creates the run's topics ({@code partitions} each); {@code extra} holds the run's own settings. */
    static BenchPipeline create(String bootstrap, String name, int partitions, Duration checkpointInterval,
            Configuration extra) {
        Configuration conf = new Configuration();
        conf.set(KafkaOptions.BOOTSTRAP_SERVERS, bootstrap);
        conf.set(KafkaOptions.GROUP_ID, name);
        conf.set(KafkaOptions.TRANSACTIONAL_ID_PREFIX, name);
        conf.set(KafkaOptions.TOPIC_TEXT, name + ".text");
        conf.set(KafkaOptions.TOPIC_ENRICHED, name + ".enriched");
        conf.set(KafkaOptions.TOPIC_DLQ, name + ".dlq");
        conf.set(ImageOptions.ENABLED, false);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, checkpointInterval);
        conf.set(CoreOptions.DEFAULT_PARALLELISM, partitions);
        conf.setString("web.checkpoints.history", "1000");
        conf.addAll(extra);
        KafkaSettings settings = KafkaOptions.settings(conf);
        TopicAdmin.ensureTopics(settings, partitions, (short) 1);
        return new BenchPipeline(name, conf, settings);
    }

    String textTopic() {
        return settings.topics().text();
    }

    /** Builds and submits the job; {@code compute} wraps the text compute (e.g. with an {@link EncoderProbe}). */
    void start(UnaryOperator<TextBatchCompute> compute) throws Exception {
        flink = LocalFlink.withFreePorts(conf);
        StreamExecutionEnvironment env = flink.environment();
        InflowPipeline.build(env, flink.configuration(), UnaryOperator.identity(), compute);
        job = env.executeAsync(jobName);
    }

    String jobId() {
        return job.getJobID().toString();
    }

    String restUrl() {
        return flink.webUiUrl();
    }

    String flinkMetricsUrl() {
        return flink.flinkMetricsUrl();
    }

    /** Sum of the run's samples of an {@code inflow_*} metric of the {@code embed} operator, now. */
    double inflowMetric(String name) throws Exception {
        return inflowMetricAll(name, "embed");
    }

    /** Sum of the run's samples of an {@code inflow_*} metric of {@code operator} (null: every operator), now. */
    double inflowMetricAll(String name, String operator) throws Exception {
        String body = get(flink.metricsUrl());
        double total = 0;
        for (String line : body.lines().filter(l -> l.startsWith(name + "{")).toList()) {
            PromSample s = PromSample.parse(line);
            if (s.name().equals(name) && jobName.equals(s.labels().get("job"))
                    && (operator == null || operator.equals(s.labels().get("operator")))) {
                total += s.value();
            }
        }
        return total;
    }

    /** Batch statistics of the embed operator so far, from Inflow's metrics endpoint. */
    BatchStats batchStats() throws Exception {
        return new BatchStats(inflowMetric("inflow_batch_size_records_count"),
                inflowMetric("inflow_batch_size_records_sum"), inflowMetric("inflow_batch_wait_seconds_sum"),
                inflowMetric("inflow_compute_seconds_sum"), inflowMetric("inflow_compute_seconds_count"));
    }

    /** Batches, rows, summed wait and compute seconds (the inflow_* histograms' _count and _sum). */
    record BatchStats(double batches, double rows, double waitSeconds, double computeSeconds, double computed) {
        BatchStats minus(BatchStats o) {
            return new BatchStats(batches - o.batches, rows - o.rows, waitSeconds - o.waitSeconds,
                    computeSeconds - o.computeSeconds, computed - o.computed);
        }

        double meanRows() {
            return rows / Math.max(1, batches);
        }

        double meanWaitMs() {
            return 1e3 * waitSeconds / Math.max(1, batches);
        }

        double meanComputeMs() {
            return 1e3 * computeSeconds / Math.max(1, computed);
        }
    }

    static String get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Override
    public void close() {
        if (job != null) {
            try {
                job.cancel().get(60, TimeUnit.SECONDS);
                job.getJobExecutionResult().get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                // cancelled: the result future fails; the MiniCluster has stopped either way
            }
        }
    }
}
