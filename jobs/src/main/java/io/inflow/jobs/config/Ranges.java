package io.inflow.jobs.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Reads an integer key and checks its range, failing with a message that names the key.
 *
 * <p>{@code int threads = Ranges.between(config, PipelineOptions.COMPUTE_THREADS, 1, 1024);}
 */
final class Ranges {

    private Ranges() {
    }

    /** The key's value; fails as {@code 'key' must be between lo and hi (was v)} outside {@code [lo, hi]}. */
    static int between(ReadableConfig config, ConfigOption<Integer> option, int lo, int hi) {
        int v = config.get(option);
        if (v < lo || v > hi) {
            throw new IllegalArgumentException("'" + option.key() + "' must be between " + lo + " and " + hi
                    + " (was " + v + ")");
        }
        return v;
    }
}
