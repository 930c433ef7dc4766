package io.inflow.sqlclient;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code ./inflow sql --jobmanager HOST:PORT}: what it accepts, the messages of what it refuses, and the session
 * configuration the SQL client reads back from the written {@code config.yaml} (target, REST address, shipped jars).
 */
class JobManagerOptionTest {

    private static SqlClientOptions parse(String... args) {
        return SqlClientOptions.parse(args, Path.of("."));
    }

    @Test
    void acceptsHostAndPort() {
        SqlClientOptions o = parse("--jobmanager", "flink-jm.example:8081", "--bootstrap-servers", "kafka:9092");
        assertThat(o.jobManager()).isEqualTo(new SqlClientOptions.JobManager("flink-jm.example", 8081));
        assertThat(o.jobManager().url()).isEqualTo("http://flink-jm.example:8081");
        assertThat(parse("--jobmanager", "[::1]:18081", "--bootstrap-servers", "k:1").jobManager().url())
                .isEqualTo("http://[::1]:18081");
        assertThat(parse("--bootstrap-servers", "k:1").jobManager()).isNull();
    }

    @Test
    void badValuesNameTheOption() {
        for (String bad : List.of("localhost", "localhost:", ":8081", "localhost:0", "localhost:65536",
                "localhost:http", "http://localhost:8081", " ")) {
            assertThatThrownBy(() -> parse("--jobmanager", bad, "--bootstrap-servers", "k:1"))
                    .as("'%s'", bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("--jobmanager needs HOST:PORT").hasMessageContaining("'" + bad + "'");
        }
        assertThatThrownBy(() -> parse("--bootstrap-servers", "k:1", "--jobmanager"))
                .hasMessage("--jobmanager needs a value");
        assertThatThrownBy(() -> parse("--jobmanager", "localhost:8081"))
                .hasMessageStartingWith("--jobmanager needs --bootstrap-servers");
    }

    @Test
    void sessionConfigurationSurvivesConfigYaml(@TempDir Path work) throws Exception {
        Configuration user = new Configuration();
        user.set(CoreOptions.DEFAULT_PARALLELISM, 2);
        user.set(PipelineOptions.JARS, List.of("file:/opt/udf.jar"));
        user.set(RestOptions.PORT, 1); // the option wins over a stray key
        List<Path> jars = List.of(Path.of("/tmp/a b/inflow-jobs-flink.jar"), Path.of("/tmp/inflow-sql.jar"));
        Configuration s = InflowSqlClient.remoteSessionConfiguration(user,
                new SqlClientOptions.JobManager("10.0.0.7", 18081), jars);

        SqlClientProcess client = SqlClientProcess.write(work, s);
        Configuration read = GlobalConfiguration.loadConfiguration(client.confDir().toString());
        assertThat(read.get(DeploymentOptions.TARGET)).isEqualTo("remote");
        assertThat(read.get(RestOptions.ADDRESS)).isEqualTo("10.0.0.7");
        assertThat(read.get(RestOptions.PORT)).isEqualTo(18081);
        assertThat(read.get(CoreOptions.DEFAULT_PARALLELISM)).isEqualTo(2);
        assertThat(read.get(PipelineOptions.JARS)).containsExactly("file:/opt/udf.jar",
                jars.get(0).toUri().toString(), jars.get(1).toUri().toString());
        assertThat(read.getString("table.exec.async-ml-predict.max-concurrent-operations", null)).isEqualTo("64");
    }
}
