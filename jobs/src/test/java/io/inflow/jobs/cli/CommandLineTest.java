package io.inflow.jobs.cli;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code inflow} command line: command, flags, values and Flink configuration from file and -D. */
class CommandLineTest {

    @TempDir
    Path dir;

    private static String get(Configuration c, String key) {
        return c.toMap().get(key);
    }

    @Test
    void commandFlagValueAndDynamicProperty() {
        CommandLine cl = CommandLine.parse(new String[] {"demo", "--keep-running", "--data-dir", "/tmp/x", "-Da=b"});

        assertThat(cl.command()).isEqualTo("demo");
        assertThat(cl.has("--keep-running")).isTrue();
        assertThat(cl.has("--data-dir")).isTrue();
        assertThat(cl.has("--create-topics")).isFalse();
        assertThat(cl.value("--data-dir")).isEqualTo("/tmp/x");
        assertThat(cl.value("--timeout")).isNull();
        assertThat(cl.configuration().toMap()).containsExactly(Map.entry("a", "b"));
    }

    @Test
    void dynamicPropertyValueMayHoldEqualsSignsAndBeEmpty() {
        CommandLine cl = CommandLine.parse(new String[] {"run", "-Dinflow.kafka.properties.sasl.jaas.config=a=b",
            "-Dempty="});

        assertThat(get(cl.configuration(), "inflow.kafka.properties.sasl.jaas.config")).isEqualTo("a=b");
        assertThat(get(cl.configuration(), "empty")).isEmpty();
    }

    private Path configFile(String... lines) throws IOException {
        Path f = dir.resolve("inflow.yaml");
        Files.write(f, java.util.List.of(lines));
        return f;
    }

    @Test
    void configFileIsReadAndDynamicPropertiesWin() throws IOException {
        Path f = configFile(
                "# Inflow settings",
                "",
                "inflow.batch.max-records: 16",
                "  inflow.kafka.group-id:   from-file  ",
                "inflow.kafka.bootstrap-servers: broker:9092");

        for (String[] args : new String[][] {
            {"run", "--config", f.toString(), "-Dinflow.batch.max-records=32"},
            {"run", "-Dinflow.batch.max-records=32", "--config", f.toString()}}) {
            Configuration c = CommandLine.parse(args).configuration();

            assertThat(get(c, "inflow.batch.max-records")).as("-D wins, in either order").isEqualTo("32");
            assertThat(get(c, "inflow.kafka.group-id")).isEqualTo("from-file");
            assertThat(get(c, "inflow.kafka.bootstrap-servers")).as("only the first ':' separates")
                    .isEqualTo("broker:9092");
            assertThat(c.toMap()).hasSize(3);
        }
    }

    @Test
    void configFileIsNotAFlag() throws IOException {
        CommandLine cl = CommandLine.parse(new String[] {"run", "--config", configFile("a: b").toString()});

        assertThat(cl.has("--config")).isFalse();
        assertThat(cl.flags()).isEmpty();
    }

    @Test
    void configFileLineWithoutColonFailsNamingFileAndLine() throws IOException {
        Path f = configFile("inflow.batch.max-records 16");

        assertThatThrownBy(() -> CommandLine.parse(new String[] {"run", "--config", f.toString()}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("key: value")
                .hasMessageContaining("inflow.batch.max-records 16");
    }

    @Test
    void missingConfigFileNamesTheFile() {
        Path missing = dir.resolve("nope.yaml");

        assertThatThrownBy(() -> CommandLine.parse(new String[] {"run", "--config", missing.toString()}))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining(missing.toString());
    }

    @Test
    void trailingCommentIsNotPartOfTheValue() throws IOException {
        Path f = configFile("inflow.kafka.group-id: team-a  # owned by team A");

        Configuration c = CommandLine.parse(new String[] {"run", "--config", f.toString()}).configuration();

        assertThat(get(c, "inflow.kafka.group-id")).isEqualTo("team-a");
    }

    @Test
    void malformedDynamicPropertyFails() {
        for (String bad : new String[] {"-Dnoequals", "-D=value", "-D"}) {
            assertThatThrownBy(() -> CommandLine.parse(new String[] {"demo", bad}))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("expected -Dkey=value")
                    .hasMessageContaining(bad);
        }
    }

    @Test
    void flagMissingItsValueFails() {
        for (String flag : new String[] {"--data-dir", "--bootstrap-servers", "--config", "--timeout"}) {
            assertThatThrownBy(() -> CommandLine.parse(new String[] {"demo", flag}))
                    .as(flag)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(flag + " needs a value");
        }
    }

    @Test
    void strayArgumentFailsPointingToHelp() {
        assertThatThrownBy(() -> CommandLine.parse(new String[] {"demo", "extra"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'extra'")
                .hasMessageContaining("inflow help");
    }

    @Test
    void noArgumentsMeansHelp() {
        CommandLine cl = CommandLine.parse(new String[0]);

        assertThat(cl.command()).isEqualTo("help");
        assertThat(cl.flags()).isEmpty();
        assertThat(cl.values()).isEmpty();
        assertThat(cl.configuration().toMap()).isEmpty();
    }
}
