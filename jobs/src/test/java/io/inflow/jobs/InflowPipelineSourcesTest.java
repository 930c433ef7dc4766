package io.inflow.jobs;

import io.inflow.connectors.kafka.KafkaOptions;

import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.SourceTransformation;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The job's Kafka sources as built (no cluster): each input topic is read by its own consumer group. */
class InflowPipelineSourcesTest {

    @Test
    void textAndImageSourcesUseDistinctGroupsByDefault() throws Exception {
        assertThat(groupsByTopic(new Configuration()))
                .isEqualTo(Map.of("events.text", "inflow-text", "events.image", "inflow-image"));
    }

    @Test
    void aConfiguredGroupNamesBothSources() throws Exception {
        Configuration c = new Configuration();
        c.set(KafkaOptions.GROUP_ID, "fraud");
        assertThat(groupsByTopic(c)).isEqualTo(Map.of("events.text", "fraud", "events.image", "fraud-image"));
        c.set(KafkaOptions.IMAGE_GROUP_ID, "pictures");
        assertThat(groupsByTopic(c)).isEqualTo(Map.of("events.text", "fraud", "events.image", "pictures"));
    }

    /** topic -> group.id of every Kafka source of the built pipeline. */
    private static Map<String, String> groupsByTopic(Configuration extra) throws Exception {
        Configuration conf = new Configuration();
        conf.set(KafkaOptions.BOOTSTRAP_SERVERS, "127.0.0.1:9092");
        conf.addAll(extra);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        InflowPipeline.build(env, conf);
        Map<String, String> out = new TreeMap<>();
        for (Transformation<?> sink : env.getTransformations()) {
            for (Transformation<?> t : sink.getTransitivePredecessors()) {
                if (t instanceof SourceTransformation<?, ?, ?> s && s.getSource() instanceof KafkaSource<?> k) {
                    Field props = KafkaSource.class.getDeclaredField("props");
                    props.setAccessible(true);
                    Properties p = (Properties) props.get(k);
                    out.put(t.getName().replaceFirst("^kafka: ", ""), p.getProperty("group.id"));
                }
            }
        }
        return out;
    }
}
