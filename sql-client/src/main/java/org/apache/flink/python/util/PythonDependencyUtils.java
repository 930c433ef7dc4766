package org.apache.flink.python.util;

import org.apache.commons.cli.CommandLine;
import org.apache.flink.configuration.Configuration;

/**
 * Stand-in for flink-python's class of this name, which Flink's SQL client (2.2) loads by reflection on every start
 * to read Python options ({@code CliOptionsParser.getPythonConfiguration}), and fails without. {@code ./inflow sql}
 * ships no Python support (flink-python and its Beam dependencies are large and unused here): no Python options,
 * an empty configuration. Put the real flink-python jar first on the classpath to get PyFlink back.
 */
public final class PythonDependencyUtils {

    private PythonDependencyUtils() {
    }

    /** The SQL client's Python options: none. */
    public static Configuration parsePythonDependencyConfiguration(CommandLine commandLine) {
        return new Configuration();
    }
}
