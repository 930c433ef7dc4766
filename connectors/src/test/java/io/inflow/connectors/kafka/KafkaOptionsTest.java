package io.inflow.connectors.kafka;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading the Kafka keys: errors name the key to change, defaults match the documented topic names. */
class KafkaOptionsTest {

    private static Configuration withBootstrap(String servers) {
        Configuration c = new Configuration();
        c.setString("inflow.kafka.bootstrap-servers", servers);
        return c;
    }

    @Test
    void missingBootstrapServersNamesTheKey() {
        assertThatThrownBy(() -> KafkaOptions.settings(new Configuration()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.kafka.bootstrap-servers")
                .hasMessageContaining("is not set");
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "kafka.example.com", " "})
    void bootstrapServersWithoutPortFail(String servers) {
        assertThatThrownBy(() -> KafkaOptions.settings(withBootstrap(servers)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.kafka.bootstrap-servers")
                .hasMessageContaining("host:port");
    }

    @ParameterizedTest
    @ValueSource(strings = {"broker1:9092,broker2", "broker1:", ":9092"})
    void everyBootstrapEntryNeedsHostAndPort(String servers) {
        assertThatThrownBy(() -> KafkaOptions.settings(withBootstrap(servers)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.kafka.bootstrap-servers");
    }

    @Test
    void anUnresolvableBootstrapHostIsNamed() {
        // .invalid never resolves (RFC 6761)
        assertThatThrownBy(() -> KafkaOptions.settings(withBootstrap("inflow-no-such-host.invalid:9092")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("'inflow.kafka.bootstrap-servers': host 'inflow-no-such-host.invalid' of"
                        + " 'inflow-no-such-host.invalid:9092' cannot be resolved");
        assertThatThrownBy(() -> KafkaOptions.settings(withBootstrap("a.invalid:9092, b.invalid:9093")))
                .hasMessageContaining("hosts 'a.invalid', 'b.invalid' of");
    }

    @Test
    void oneResolvableHostIsEnoughAsForKafka() {
        assertThat(KafkaOptions.settings(withBootstrap("inflow-no-such-host.invalid:9092,localhost:9092"))
                .bootstrapServers()).isEqualTo("inflow-no-such-host.invalid:9092,localhost:9092");
        assertThat(KafkaOptions.settings(withBootstrap("[::1]:9092,127.0.0.1:9092")).bootstrapServers())
                .isEqualTo("[::1]:9092,127.0.0.1:9092");
    }

    @Test
    void transactionTimeoutAboveTheBrokerMaximumFails() {
        Configuration c = withBootstrap("localhost:9092");
        c.setString("inflow.kafka.transaction-timeout", "20 min");

        assertThatThrownBy(() -> KafkaOptions.settings(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.kafka.transaction-timeout")
                .hasMessageContaining("15 min");
    }

    @Test
    void transactionTimeoutBoundsAreInclusive() {
        Configuration atMax = withBootstrap("localhost:9092");
        atMax.set(KafkaOptions.TRANSACTION_TIMEOUT, KafkaOptions.BROKER_MAX_TRANSACTION_TIMEOUT);
        Configuration atMin = withBootstrap("localhost:9092");
        atMin.set(KafkaOptions.TRANSACTION_TIMEOUT, Duration.ofSeconds(1));
        Configuration belowMin = withBootstrap("localhost:9092");
        belowMin.set(KafkaOptions.TRANSACTION_TIMEOUT, Duration.ofMillis(999));

        assertThat(KafkaOptions.settings(atMax).transactionTimeout()).isEqualTo(Duration.ofMinutes(15));
        assertThat(KafkaOptions.settings(atMin).transactionTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThatThrownBy(() -> KafkaOptions.settings(belowMin))
                .hasMessageContaining("inflow.kafka.transaction-timeout");
    }

    @Test
    void defaults() {
        KafkaSettings s = KafkaOptions.settings(withBootstrap("localhost:9092"));

        assertThat(s.bootstrapServers()).isEqualTo("localhost:9092");
        assertThat(s.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
        assertThat(s.textGroupId()).isEqualTo("inflow-text");
        assertThat(s.imageGroupId()).isEqualTo("inflow-image");
        assertThat(s.startingOffsets()).isEqualTo(KafkaOptions.StartingOffsets.COMMITTED_OR_EARLIEST);
        assertThat(s.transactionalIdPrefix()).isEqualTo("inflow");
        assertThat(s.transactionTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(s.topics()).isEqualTo(
                new KafkaSettings.Topics("events.text", "events.image", "corpus", "enriched", "dlq", "topics"));
        assertThat(s.extraProperties()).isEmpty();
    }

    @Test
    void everyKeyIsRead() {
        Configuration c = withBootstrap("localhost:1,127.0.0.1:2");
        c.setString("inflow.kafka.group-id", "g");
        c.setString("inflow.kafka.image-group-id", "gi");
        c.setString("inflow.kafka.starting-offsets", "LATEST");
        c.setString("inflow.kafka.delivery-guarantee", "at-least-once");
        c.setString("inflow.kafka.transactional-id-prefix", "job7");
        c.setString("inflow.kafka.transaction-timeout", "2 min");
        c.setString("inflow.topics.text-events", "t");
        c.setString("inflow.topics.image-events", "i");
        c.setString("inflow.topics.corpus", "c");
        c.setString("inflow.topics.enriched", "e");
        c.setString("inflow.topics.dead-letter", "d");
        c.setString("inflow.topics.topic-trees", "tt");

        KafkaSettings s = KafkaOptions.settings(c);

        assertThat(s.bootstrapServers()).isEqualTo("localhost:1,127.0.0.1:2");
        assertThat(s.textGroupId()).isEqualTo("g");
        assertThat(s.imageGroupId()).isEqualTo("gi");
        assertThat(s.startingOffsets()).isEqualTo(KafkaOptions.StartingOffsets.LATEST);
        assertThat(s.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
        assertThat(s.transactionalIdPrefix()).isEqualTo("job7");
        assertThat(s.transactionTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(s.topics()).isEqualTo(new KafkaSettings.Topics("t", "i", "c", "e", "d", "tt"));
    }

    @Test
    void imageSourceHasItsOwnGroupDerivedFromTheTextGroup() {
        Configuration c = withBootstrap("localhost:9092");
        c.setString("inflow.kafka.group-id", "my-group");
        assertThat(KafkaOptions.settings(c).imageGroupId()).isEqualTo("my-group-image");
        c.setString("inflow.kafka.group-id", "fraud-text");
        assertThat(KafkaOptions.settings(c).imageGroupId()).isEqualTo("fraud-image");
        c.setString("inflow.kafka.group-id", "text");
        assertThat(KafkaOptions.settings(c).imageGroupId()).isEqualTo("text-image");

        c.setString("inflow.kafka.image-group-id", "text");
        assertThatThrownBy(() -> KafkaOptions.settings(c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'inflow.kafka.image-group-id' must differ from 'inflow.kafka.group-id'")
                .hasMessageContaining("'text'");
        c.setString("inflow.kafka.image-group-id", " ");
        assertThatThrownBy(() -> KafkaOptions.settings(c)).hasMessageContaining("must not be blank");
    }

    @Test
    void deliveryGuaranteeAcceptsTheSpellingTheHelpTextGives() {
        Configuration c = withBootstrap("localhost:9092");
        c.setString("inflow.kafka.delivery-guarantee", "AT_LEAST_ONCE");

        assertThat(KafkaOptions.settings(c).deliveryGuarantee()).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
    }

    @Test
    void passThroughPropertiesLoseThePrefixAndSitNextToBootstrapServers() {
        Configuration c = withBootstrap("localhost:9092");
        c.setString("inflow.kafka.properties.security.protocol", "SSL");
        c.setString("inflow.kafka.properties.sasl.mechanism", "PLAIN");

        Properties p = KafkaOptions.settings(c).clientProperties();

        assertThat(p).containsOnly(
                Map.entry("security.protocol", "SSL"),
                Map.entry("sasl.mechanism", "PLAIN"),
                Map.entry("bootstrap.servers", "localhost:9092"));
    }

    @Test
    void clientPropertiesAreAFreshCopyEachTime() {
        KafkaSettings s = KafkaOptions.settings(withBootstrap("localhost:9092"));
        s.clientProperties().setProperty("isolation.level", "read_committed");
        assertThat(s.clientProperties()).doesNotContainKey("isolation.level");
    }

    @Test
    void topicAdminCreatesSixTopicsAndCompactsTheCorpus() {
        KafkaSettings s = KafkaOptions.settings(withBootstrap("localhost:9092"));

        List<NewTopic> topics = TopicAdmin.topics(s.topics(), s.sinkLimits(), 3, (short) 1);

        assertThat(topics).extracting(NewTopic::name).containsExactlyInAnyOrder(
                "events.text", "events.image", "corpus", "enriched", "dlq", "topics");
        assertThat(topics).allSatisfy(t -> {
            assertThat(t.numPartitions()).isEqualTo(3);
            assertThat(t.replicationFactor()).isEqualTo((short) 1);
        });
        // inputs take large records (they are dead-lettered, cut); outputs one producer request
        assertThat(topics).filteredOn(t -> List.of("events.text", "events.image", "corpus").contains(t.name()))
                .allSatisfy(t -> assertThat(t.configs()).containsEntry("max.message.bytes",
                        Integer.toString(TopicAdmin.MAX_MESSAGE_BYTES)));
        assertThat(topics).filteredOn(t -> List.of("enriched", "dlq", "topics").contains(t.name()))
                .allSatisfy(t -> assertThat(t.configs()).containsEntry("max.message.bytes",
                        Integer.toString(SinkLimits.DEFAULT_MAX_REQUEST_BYTES)));
        assertThat(topics).filteredOn(t -> t.name().equals("corpus")).singleElement()
                .satisfies(t -> assertThat(t.configs()).containsEntry("cleanup.policy", "compact"));
        assertThat(topics).filteredOn(t -> !t.name().equals("corpus"))
                .allSatisfy(t -> assertThat(t.configs()).doesNotContainKey("cleanup.policy"));
    }

    @Test
    void defaultDeadLettersFitKafkasDefaultRequestSize() {
        SinkLimits limits = KafkaOptions.settings(withBootstrap("localhost:9092")).sinkLimits();
        assertThat(limits).isEqualTo(SinkLimits.defaults());
        assertThat(limits.maxDeadLetterBytes() + SinkLimits.RECORD_OVERHEAD_BYTES)
                .isLessThanOrEqualTo(SinkLimits.DEFAULT_MAX_REQUEST_BYTES);
    }

    @Test
    void deadLetterShareThatCannotFitARequestFailsNamingBothKeys() {
        Configuration c = withBootstrap("localhost:9092");
        c.setString("inflow.dead-letter.max-original-bytes", "1 mb");
        assertThatThrownBy(() -> KafkaOptions.settings(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.dead-letter.max-original-bytes")
                .hasMessageContaining("inflow.kafka.properties.max.request.size")
                .hasMessageContaining("lower it to at most " + SinkLimits.largestOriginalFor(1 << 20));
        // raising the producer's request size makes the same share valid
        c.setString("inflow.kafka.properties.max.request.size", Integer.toString(4 << 20));
        assertThat(KafkaOptions.settings(c).sinkLimits().deadLetterMaxOriginalBytes()).isEqualTo(1 << 20);
    }

    @Test
    void largestOriginalForIsTheLargestThatFits() {
        for (int request : new int[] {64 << 10, 1 << 20, 1_048_588, 16 << 20}) {
            long largest = SinkLimits.largestOriginalFor(request);
            assertThat(SinkLimits.maxDeadLetterBytes(largest) + SinkLimits.RECORD_OVERHEAD_BYTES)
                    .as("request %d", request).isLessThanOrEqualTo(request);
            assertThat(SinkLimits.maxDeadLetterBytes(largest + 4) + SinkLimits.RECORD_OVERHEAD_BYTES)
                    .as("request %d, 4 bytes more", request).isGreaterThan(request);
        }
    }
}
