package io.inflow.jobs.embedded;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.connectors.kafka.TopicAdmin;

import kafka.server.KafkaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The embedded broker's configuration, checked without starting it. */
class EmbeddedKafkaBrokerPropertiesTest {

    private static final int BROKER_PORT = 19092;
    private static final int CONTROLLER_PORT = 19093;

    @TempDir
    Path dir;

    private Properties props() {
        return EmbeddedKafkaBroker.brokerProperties(dir.resolve("log"), BROKER_PORT, CONTROLLER_PORT);
    }

    @Test
    void bindsOnlyLoopback() {
        Properties p = props();

        assertThat(p.getProperty("listeners")).isEqualTo(
                "PLAINTEXT://127.0.0.1:" + BROKER_PORT + ",CONTROLLER://127.0.0.1:" + CONTROLLER_PORT);
        assertThat(p.getProperty("advertised.listeners")).isEqualTo("PLAINTEXT://127.0.0.1:" + BROKER_PORT);
        assertThat(p.getProperty("controller.quorum.voters")).isEqualTo("1@127.0.0.1:" + CONTROLLER_PORT);
        for (String key : p.stringPropertyNames()) {
            assertThat(p.getProperty(key)).as(key).doesNotContain("0.0.0.0").doesNotContain("://:");
        }
    }

    @Test
    void singleNodeKraftInCombinedMode() {
        Properties p = props();

        assertThat(p.getProperty("process.roles")).isEqualTo("broker,controller");
        assertThat(p.getProperty("node.id")).isEqualTo("1");
        assertThat(p.getProperty("controller.listener.names")).isEqualTo("CONTROLLER");
        assertThat(p.getProperty("log.dirs")).isEqualTo(dir.resolve("log").toString());
        assertThat(p).doesNotContainKey("zookeeper.connect");
    }

    @Test
    void everyInternalTopicHasReplicationOne() {
        Properties p = props();

        assertThat(p.stringPropertyNames()).filteredOn(k -> k.endsWith("replication.factor"))
                .containsExactlyInAnyOrder("offsets.topic.replication.factor",
                        "transaction.state.log.replication.factor",
                        "share.coordinator.state.topic.replication.factor")
                .allSatisfy(k -> assertThat(p.getProperty(k)).as(k).isEqualTo("1"));
        assertThat(p.stringPropertyNames()).filteredOn(k -> k.endsWith("min.isr"))
                .isNotEmpty()
                .allSatisfy(k -> assertThat(p.getProperty(k)).as(k).isEqualTo("1"));
    }

    @Test
    void transactionTimeoutMaximumMatchesWhatTheSinksAssume() {
        Properties p = props();

        assertThat(p.getProperty("transaction.max.timeout.ms")).isEqualTo("900000");
        assertThat(Long.parseLong(p.getProperty("transaction.max.timeout.ms")))
                .isEqualTo(KafkaOptions.BROKER_MAX_TRANSACTION_TIMEOUT.toMillis());
    }

    @Test
    void acceptsRecordsAsLargeAsTheTopicsAllow() {
        Properties p = props();

        assertThat(Integer.parseInt(p.getProperty("message.max.bytes")))
                .isGreaterThanOrEqualTo(TopicAdmin.MAX_MESSAGE_BYTES);
        assertThat(Integer.parseInt(p.getProperty("replica.fetch.max.bytes")))
                .isGreaterThanOrEqualTo(TopicAdmin.MAX_MESSAGE_BYTES);
        assertThat(p.getProperty("auto.create.topics.enable")).isEqualTo("false");
    }

    @Test
    void kafkaAcceptsTheConfiguration() {
        KafkaConfig config = KafkaConfig.fromProps(props(), false);

        assertThat(config.nodeId()).isEqualTo(1);
        assertThat(config.getInt("transaction.max.timeout.ms")).isEqualTo(900_000);
    }
}
