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
 * missing topic and what to do (the text topic exists here, the image topic does not).
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
}
