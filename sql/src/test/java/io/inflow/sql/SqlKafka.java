package io.inflow.sql;

import io.inflow.operators.metrics.InflowMetrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.DeserializationFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the {@code ML_PREDICT} Kafka tests share: topics, a streaming table environment on a local MiniCluster, JSON
 * rows in and out (numbers read as decimals, so a FLOAT comes back bit for bit), and the {@code ml-predict} counters.
 */
final class SqlKafka {

    /** Reads numbers as their decimal text: {@link #toFloat} then gives back exactly the float the sink wrote. */
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private SqlKafka() {
    }

    static void createTopics(String bootstrap, String... topics) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(java.util.Arrays.stream(topics).map(t -> new NewTopic(t, 1, (short) 1)).toList())
                    .all().get(30, TimeUnit.SECONDS);
        }
    }

    /** A streaming table environment: parallelism 1, 16 rows in flight, 2 compute threads, metrics on port 0. */
    static TableEnvironment tableEnv(String pipeline) {
        Configuration conf = new Configuration();
        conf.setString("parallelism.default", "1");
        conf.setString("pipeline.name", pipeline);
        conf.setString("table.exec.async-ml-predict.max-concurrent-operations", "16");
        conf.setString("inflow.compute.threads", "2");
        conf.setString("inflow.metrics.port", "0");
        return TableEnvironment.create(EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf)
                .build());
    }

    /** The options of a bounded JSON Kafka source table reading {@code topic} from the start. */
    static String source(String topic, String bootstrap) {
        return "'connector' = 'kafka', 'topic' = '" + topic + "', 'properties.bootstrap.servers' = '" + bootstrap
                + "', 'properties.group.id' = 'it', 'scan.startup.mode' = 'earliest-offset',"
                + " 'scan.bounded.mode' = 'latest-offset', 'format' = 'json'";
    }

    /** The options of a JSON Kafka sink table. */
    static String sink(String topic, String bootstrap) {
        return "'connector' = 'kafka', 'topic' = '" + topic + "', 'properties.bootstrap.servers' = '" + bootstrap
                + "', 'format' = 'json'";
    }

    static void produce(String bootstrap, String topic, List<String> jsonRows) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (String row : jsonRows) {
                producer.send(new ProducerRecord<>(topic, row)).get();
            }
        }
    }

    /** Reads {@code expected} rows of {@code topic} by their {@code id}; fails on a duplicate id. */
    static Map<Integer, JsonNode> consume(String bootstrap, String topic, int expected) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", "reader-" + topic);
        p.put("auto.offset.reset", "earliest");
        Map<Integer, JsonNode> out = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    JsonNode row = JSON.readTree(r.value());
                    assertThat(out.put(row.get("id").asInt(), row)).as("duplicate id %s", row.get("id")).isNull();
                }
            }
        }
        return out;
    }

    /** A JSON number as the float it was written from. */
    static float toFloat(JsonNode n) {
        return Float.parseFloat(n.decimalValue().toString());
    }

    static float[] toFloats(JsonNode array) {
        float[] v = new float[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = toFloat(array.get(i));
        }
        return v;
    }

    /** The value of counter {@code name} (ending in {@code _total}) with {@code operator="ml-predict"} and labels. */
    static double counter(String name, Map<String, String> labels) {
        return counter(name, BatchedPredictFunction.OPERATOR, labels);
    }

    /** The value of counter {@code name} (ending in {@code _total}) of {@code operator}, summed over other labels. */
    static double counter(String name, String operator, Map<String, String> labels) {
        double sum = 0;
        for (MetricSnapshot s : InflowMetrics.REGISTRY.scrape()) {
            if (s instanceof CounterSnapshot c && (c.getMetadata().getPrometheusName() + "_total").equals(name)) {
                for (CounterSnapshot.CounterDataPointSnapshot d : c.getDataPoints()) {
                    boolean match = operator.equals(d.getLabels().get(InflowMetrics.OPERATOR));
                    for (Map.Entry<String, String> l : labels.entrySet()) {
                        match &= l.getValue().equals(d.getLabels().get(l.getKey()));
                    }
                    if (match) {
                        sum += d.getValue();
                    }
                }
            }
        }
        return sum;
    }
}
