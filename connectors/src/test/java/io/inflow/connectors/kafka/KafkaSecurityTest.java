package io.inflow.connectors.kafka;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Secured Kafka settings ({@code inflow.kafka.properties.*}): bad or missing ones fail at start naming the key and
 * without the secret; good ones reach every client (sources, transactional sinks, the dead-letter sink) unchanged.
 */
class KafkaSecurityTest {

    private static final String SECRET = "s3cr3t-Pa55word";
    private static final String SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule required"
            + " username=\"inflow\" password=\"" + SECRET + "\";";

    @TempDir
    Path dir;

    private static Configuration sasl() {
        Configuration c = new Configuration();
        c.setString("inflow.kafka.bootstrap-servers", "localhost:9093");
        c.setString("inflow.kafka.properties.security.protocol", "SASL_SSL");
        c.setString("inflow.kafka.properties.sasl.mechanism", "SCRAM-SHA-512");
        return c;
    }

    @Test
    void saslWithoutAJaasLoginNamesTheKey() {
        assertThatThrownBy(() -> KafkaOptions.settings(sasl()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("'inflow.kafka.properties.security.protocol' is SASL_SSL but"
                        + " 'inflow.kafka.properties.sasl.jaas.config' is not set")
                .hasMessageContaining("ScramLoginModule required");
    }

    @Test
    void anUnknownSecurityProtocolNamesTheKey() {
        Configuration c = sasl();
        c.setString("inflow.kafka.properties.security.protocol", "SASL_TLS");
        assertThatThrownBy(() -> KafkaOptions.settings(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.kafka.properties.security.protocol")
                .hasMessageContaining("SASL_TLS");
    }

    @Test
    void theLoginModuleMustMatchTheMechanism() {
        Configuration c = sasl();
        c.setString("inflow.kafka.properties.sasl.jaas.config", SCRAM.replace(
                "scram.ScramLoginModule", "plain.PlainLoginModule"));
        assertThatThrownBy(() -> KafkaOptions.settings(c))
                .hasMessageContaining("'inflow.kafka.properties.sasl.mechanism' is SCRAM-SHA-512")
                .hasMessageContaining("PlainLoginModule")
                .hasMessageNotContaining(SECRET);
    }

    @Test
    void aScramLoginWithoutPasswordNamesTheKey() {
        Configuration c = sasl();
        c.setString("inflow.kafka.properties.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"inflow\";");
        assertThatThrownBy(() -> KafkaOptions.settings(c))
                .hasMessageContaining("'inflow.kafka.properties.sasl.jaas.config' has no password=");
    }

    @Test
    void anUnparsableJaasLineFailsWithoutShowingThePassword() {
        Configuration c = sasl();
        c.setString("inflow.kafka.properties.sasl.jaas.config", SCRAM.replace(" required", "").replace(";", ""));
        assertThatThrownBy(() -> KafkaOptions.settings(c))
                .hasMessageContaining("'inflow.kafka.properties.sasl.jaas.config' is not a JAAS login")
                .hasMessageNotContaining(SECRET);
    }

    @Test
    void aMistypedKeyIsNamedWithTheNearestKafkaProperty() {
        Configuration c = sasl();
        c.setString("inflow.kafka.properties.sasl.jass.config", SCRAM);
        assertThatThrownBy(() -> KafkaOptions.settings(c))
                .hasMessage("unknown Kafka client property 'inflow.kafka.properties.sasl.jass.config'; did you mean"
                        + " 'inflow.kafka.properties.sasl.jaas.config'?");
    }

    @Test
    void aMissingTrustStoreFileIsNamed() {
        Configuration c = sasl();
        c.setString("inflow.kafka.properties.sasl.jaas.config", SCRAM);
        c.setString("inflow.kafka.properties.ssl.truststore.location", dir.resolve("nope.p12").toString());
        assertThatThrownBy(() -> KafkaOptions.settings(c))
                .hasMessageContaining("'inflow.kafka.properties.ssl.truststore.location' is '")
                .hasMessageContaining("not a readable file");
    }

    @Test
    void aWrongTrustStorePasswordIsNamedButNotShown() throws Exception {
        Path store = trustStore("right-password");
        Configuration c = sasl();
        c.setString("inflow.kafka.properties.sasl.jaas.config", SCRAM);
        c.setString("inflow.kafka.properties.ssl.truststore.location", store.toString());
        c.setString("inflow.kafka.properties.ssl.truststore.type", "PKCS12");
        c.setString("inflow.kafka.properties.ssl.truststore.password", "wrong-password");
        assertThatThrownBy(() -> KafkaOptions.settings(c))
                .hasMessageContaining("wrong 'inflow.kafka.properties.ssl.truststore.password'")
                .hasMessageNotContaining("wrong-password");
        c.setString("inflow.kafka.properties.ssl.truststore.password", "right-password");
        assertThat(KafkaOptions.settings(c).clientProperties()).containsEntry("ssl.truststore.password",
                "right-password");
    }

    @Test
    void aJaasLineFromAFileThroughKafkasConfigProviderIsCheckedAndLeftForTheClientToResolve() throws Exception {
        Path secrets = dir.resolve("kafka-secrets.properties");
        Files.writeString(secrets, "sasl.jaas.config=" + SCRAM.replace("\"", "\\\"") + "\n");
        Configuration c = sasl();
        c.setString("inflow.kafka.properties.config.providers", "file");
        c.setString("inflow.kafka.properties.config.providers.file.class",
                "org.apache.kafka.common.config.provider.FileConfigProvider");
        String ref = "${file:" + secrets + ":sasl.jaas.config}";
        c.setString("inflow.kafka.properties.sasl.jaas.config", ref);

        assertThat(KafkaOptions.settings(c).clientProperties()).containsEntry("sasl.jaas.config", ref);

        Files.writeString(secrets, "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule"
                + " required username=\"inflow\";\n");
        assertThatThrownBy(() -> KafkaOptions.settings(c)).hasMessageContaining("has no password=");
    }

    @Test
    void everySourceAndSinkGetsEverySecuritySetting() throws Exception {
        Path store = trustStore("ts-pass");
        Configuration c = sasl();
        c.setString("inflow.kafka.properties.sasl.jaas.config", SCRAM);
        c.setString("inflow.kafka.properties.ssl.truststore.location", store.toString());
        c.setString("inflow.kafka.properties.ssl.truststore.password", "ts-pass");
        c.setString("inflow.kafka.properties.ssl.truststore.type", "PKCS12");
        KafkaSettings s = KafkaOptions.settings(c);
        Map<String, String> expected = Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512",
                "sasl.jaas.config", SCRAM, "ssl.truststore.location", store.toString(),
                "ssl.truststore.password", "ts-pass", "ssl.truststore.type", "PKCS12",
                "bootstrap.servers", "localhost:9093");

        for (Object client : new Object[] {InflowKafka.rawSource(s, "events.text", "g"),
                InflowKafka.corpusSource(s, "g-corpus")}) {
            assertThat(field(client, KafkaSource.class, "props")).containsAllEntriesOf(expected);
        }
        for (Object client : new Object[] {InflowKafka.enrichedSink(s), InflowKafka.deadLetterSink(s),
                InflowKafka.topicTreeSink(s, "text")}) {
            assertThat(field(client, KafkaSink.class, "kafkaProducerConfig")).containsAllEntriesOf(expected);
        }
        // the admin clients (topic checks and creation) use the same properties
        assertThat(s.clientProperties()).containsAllEntriesOf(expected);
    }

    @Test
    void scrubbingHidesSecretValuesAndThePasswordInsideAJaasLine() {
        String msg = "login " + SCRAM + " failed; password " + SECRET + "; truststore pw ts-pass";
        String out = KafkaSecurity.scrub(msg, Map.of("sasl.jaas.config", SCRAM.replace(";", " ;"),
                "ssl.truststore.password", "ts-pass", "sasl.mechanism", "SCRAM-SHA-512"));
        assertThat(out).doesNotContain(SECRET).doesNotContain("ts-pass");
        assertThat(KafkaSecurity.isSecret("sasl.jaas.config")).isTrue();
        assertThat(KafkaSecurity.isSecret("ssl.truststore.password")).isTrue();
        assertThat(KafkaSecurity.isSecret("ssl.truststore.location")).isFalse();
    }

    private Path trustStore(String password) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        Path file = dir.resolve("truststore-" + password + ".p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            ks.store(out, password.toCharArray());
        }
        return file;
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> field(Object o, Class<?> type, String name) throws Exception {
        Field f = type.getDeclaredField(name);
        f.setAccessible(true);
        return (Properties) f.get(o);
    }
}
