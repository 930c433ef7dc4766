package io.inflow.jobs.recovery;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where {@code ./inflow run} keeps its checkpoints and savepoints, and how long a stop may take.
 *
 * <p>{@code Path dir = StateOptions.stateDir(conf);   // ~/.inflow/state unless inflow.state.dir is set}
 */
public final class StateOptions {

    public static final ConfigOption<String> STATE_DIR = ConfigOptions.key("inflow.state.dir").stringType()
            .noDefaultValue().withDescription("Directory of the job's checkpoints and savepoints (default"
                    + " ~/.inflow/state; one sub-directory per consumer group). A run resumes from the newest"
                    + " completed checkpoint or savepoint found there; --fresh moves it aside.");

    public static final ConfigOption<Duration> STOP_TIMEOUT = ConfigOptions.key("inflow.state.stop-timeout")
            .durationType().defaultValue(Duration.ofSeconds(60)).withDescription("How long Ctrl-C or"
                    + " './inflow stop' waits for the final savepoint before giving up (the job then ends without"
                    + " one and the next run resumes from the latest checkpoint).");

    private StateOptions() {
    }

    /** {@code inflow.state.dir}, else {@code ~/.inflow/state}. */
    public static Path stateDir(ReadableConfig conf) {
        return conf.getOptional(STATE_DIR).map(Path::of)
                .orElseGet(() -> Path.of(System.getProperty("user.home"), ".inflow", "state"));
    }
}
