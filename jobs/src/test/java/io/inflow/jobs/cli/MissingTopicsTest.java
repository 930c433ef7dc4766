package io.inflow.jobs.cli;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.KafkaSettings;
import io.inflow.connectors.kafka.TopicAdmin;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;

import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThatCode;

/**
 * {@code ./inflow run} against a real broker without the input topics fails before the job starts, naming the
 * missing topic and what to do (the text topic exists here, the image topic does not); likewise an existing output
 * topic that takes smaller records than the sinks may write.
 */
@Timeout(120)
class MissingTopicsTest {

    private static EmbeddedKafkaBroker kafka;

    @BeforeAll
    static void startBroker() throws Exception {
        kafka = EmbeddedKafkaBroker.start(null);
        try (Admin admin = Admin.create(java.util.Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("events.text", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static PipelineSettings settings(boolean images) {
        Configuration c = new Configuration();
        c.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        c.setString("inflow.image.enabled", Boolean.toString(images));
        return PipelineSettings.from(c);
    }

    @Test
    void aMissingImageTopicIsNamedWithBothWaysOut() {
        assertThatThrownBy(() -> Main.requireInputTopics(settings(true)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[events.image] do not exist on " + kafka.bootstrapServers())
                .hasMessageContaining("--create-topics")
                .hasMessageContaining("-Dinflow.image.enabled=false");
    }

    @Test
    void textOnlyNeedsOnlyTheTextTopic() {
        assertThatCode(() -> Main.requireInputTopics(settings(false))).doesNotThrowAnyException();
        KafkaSettings kafkaSettings = settings(false).kafka();
        assertThat(TopicAdmin.missing(kafkaSettings, List.of("events.text", "nope", "nope")))
                .containsExactly("nope");
    }

    @Test
    void anOutputTopicTooSmallForTheLargestDeadLetterFailsAtStart() throws Exception {
        // a dead-letter topic created by hand with 200 kB records: the default dead letter can reach ~0.9 MiB
        try (Admin admin = Admin.create(java.util.Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("small-dlq", 1, (short) 1)
                    .configs(java.util.Map.of("max.message.bytes", "200000")))).all().get(30, TimeUnit.SECONDS);
        }
        Configuration c = new Configuration();
        c.set(KafkaOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        c.setString("inflow.topics.dead-letter", "small-dlq");
        KafkaSettings small = KafkaOptions.settings(c);
        assertThatThrownBy(() -> TopicAdmin.checkOutputLimits(small))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("topic small-dlq takes records of at most 200000 bytes")
                .hasMessageContaining("inflow.dead-letter.max-original-bytes")
                .hasMessageContaining("(at most 78576 bytes for this topic)"); // 7/3 x + 16 KiB + 264 <= 200000
        // with a dead-letter share that fits the topic, the same check passes; the default dlq (absent here) too
        c.setString("inflow.dead-letter.max-original-bytes", "64 kb");
        assertThatCode(() -> TopicAdmin.checkOutputLimits(KafkaOptions.settings(c))).doesNotThrowAnyException();
        assertThatCode(() -> TopicAdmin.checkOutputLimits(settings(false).kafka())).doesNotThrowAnyException();
    }
}
