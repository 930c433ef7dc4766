package io.inflow.jobs.config;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.operators.batch.BatchingOptions;
import io.inflow.operators.metrics.MetricsOptions;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The known-key list is collected from the options classes, and a near miss names the key that was meant. */
class KnownKeysTest {

    @Test
    void collectsTheOptionConstantsOfEveryOptionsClass() {
        assertThat(KnownKeys.keys()).contains(PipelineOptions.TEXT_MODEL.key(), ImageOptions.TOP_K.key(),
                BatchingOptions.MAX_RECORDS.key(), MetricsOptions.PORT.key(), KafkaOptions.TOPIC_DLQ.key(),
                KafkaOptions.BOOTSTRAP_SERVERS.key(), "inflow.image.batch.max-wait");
        assertThat(KnownKeys.keys()).allMatch(k -> k.startsWith("inflow."));
    }

    /**
     * Guards the list of options classes: every {@code ConfigOptions.key("inflow...")} written in the main sources of
     * any module must be known, so an options class added without registering it in
     * {@link KnownKeys#OPTION_CLASSES} fails here rather than at a user's start.
     */
    @Test
    void everyInflowKeyDeclaredInTheSourcesIsKnown() throws IOException {
        Pattern declared = Pattern.compile("\\.key\\(\\s*\"(inflow\\.[^\"]+)\"\\s*\\)");
        Set<String> found = new TreeSet<>();
        try (Stream<Path> files = Files.walk(Path.of("..").toAbsolutePath().normalize())) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")
                    && p.toString().contains("/src/main/java/")).toList()) {
                Matcher m = declared.matcher(Files.readString(f));
                while (m.find()) {
                    found.add(m.group(1));
                }
            }
        }
        assertThat(found).as("keys declared in the sources").hasSizeGreaterThan(40);
        assertThat(KnownKeys.keys()).containsAll(found);
    }

    /** The README's configuration table documents exactly the known keys (plus the properties prefix). */
    @Test
    void theReadmeTableListsEveryKnownKey() throws IOException {
        Pattern row = Pattern.compile("^\\| `(inflow\\.[a-z0-9.-]+)` \\|");
        Set<String> documented = new TreeSet<>();
        for (String line : Files.readAllLines(Path.of("..", "README.md"))) {
            Matcher m = row.matcher(line);
            if (m.find()) {
                documented.add(m.group(1));
            }
        }
        assertThat(documented).isEqualTo(KnownKeys.keys());
    }

    @Test
    void nearestKnownKeyByEditDistance() {
        assertThat(KnownKeys.nearest("inflow.text.max-token")).isEqualTo("inflow.text.max-tokens");
        assertThat(KnownKeys.nearest("inflow.metric.port")).isEqualTo("inflow.metrics.port");
        assertThat(KnownKeys.nearest("inflow.kafka.property.security.protocol"))
                .isEqualTo("inflow.kafka.properties.security.protocol");
        assertThat(KnownKeys.editDistance("kitten", "sitting")).isEqualTo(3);
        assertThat(KnownKeys.editDistance("", "abc")).isEqualTo(3);
        assertThat(KnownKeys.editDistance("same", "same")).isZero();
    }

    @Test
    void checkAcceptsKnownKeysPrefixFamiliesAndOtherNamespaces() {
        KnownKeys.check(List.of("inflow.text.model", "inflow.kafka.properties.sasl.mechanism",
                "inflow.cuda.device", "execution.checkpointing.interval", "inflowing.x"));
        assertThatThrownBy(() -> KnownKeys.check(List.of("inflow.kafka.properties")))
                .hasMessageStartingWith("unknown key inflow.kafka.properties; did you mean");
    }
}
