package io.inflow.jobs.cli;

import org.apache.flink.configuration.Configuration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Parsed command line: a command, flags, and Flink configuration from {@code --config FILE} ({@code key: value}
 * lines, as in Flink's config file) and {@code -Dkey=value} (which win).
 *
 * <p>{@code CommandLine cl = CommandLine.parse(new String[] {"demo", "--keep-running", "-Dinflow.batch.max-records=32"});}
 */
public record CommandLine(String command, Set<String> flags, List<String> values, Configuration configuration) {

    /** Flags that take a value, e.g. {@code --data-dir DIR}. */
    private static final Set<String> WITH_VALUE = Set.of("--data-dir", "--bootstrap-servers", "--config",
            "--timeout", "--state-dir", "--model", "--calibration", "--texts", "--images", "--held-out", "--max-tokens",
            "--smoothing", "--out", "--threads", "--size-budget", "--taskmanagers", "--slots", "--rest-port",
            "--metrics-port", "--jar", "--flink-lib");

    public static CommandLine parse(String[] args) {
        if (args.length == 0) {
            return new CommandLine("help", Set.of(), List.of(), new Configuration());
        }
        Set<String> flags = new LinkedHashSet<>();
        List<String> values = new ArrayList<>();
        Configuration fromFile = new Configuration();
        Configuration fromArgs = new Configuration();
        String command = args[0];
        int first = 1;
        if (command.equals("cluster") && args.length > 1 && !args[1].startsWith("-")) {
            command = "cluster " + args[1]; // cluster start | status | submit | stop
            first = 2;
        }
        for (int i = first; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("-D")) {
                int eq = a.indexOf('=');
                if (eq < 3) {
                    throw new IllegalArgumentException("expected -Dkey=value, got '" + a + "'");
                }
                fromArgs.setString(a.substring(2, eq), a.substring(eq + 1));
            } else if (WITH_VALUE.contains(a)) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(a + " needs a value");
                }
                String v = args[++i];
                if (a.equals("--config")) {
                    fromFile.addAll(readConfigFile(Path.of(v)));
                } else {
                    flags.add(a);
                    values.add(a + "=" + v);
                }
            } else if (a.startsWith("--")) {
                flags.add(a);
            } else {
                throw new IllegalArgumentException("unexpected argument '" + a + "'; see 'inflow help'");
            }
        }
        fromFile.addAll(fromArgs);
        return new CommandLine(command, flags, values, fromFile);
    }

    /** The value of a flag that takes one, or null. */
    public String value(String flag) {
        for (String v : values) {
            if (v.startsWith(flag + "=")) {
                return v.substring(flag.length() + 1);
            }
        }
        return null;
    }

    public boolean has(String flag) {
        return flags.contains(flag);
    }

    /** Drops a comment: {@code #} at the start of a line or after whitespace, as Flink's config reader does. */
    private static String stripComment(String line) {
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    /** Reads {@code key: value} lines (Flink's flat config format); {@code #} starts a comment. */
    static Configuration readConfigFile(Path file) {
        Configuration c = new Configuration();
        try {
            for (String line : Files.readAllLines(file)) {
                String l = stripComment(line).strip();
                if (l.isEmpty()) {
                    continue;
                }
                int colon = l.indexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException(file + ": expected 'key: value', got '" + line + "'");
                }
                c.setString(l.substring(0, colon).strip(), l.substring(colon + 1).strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read config file " + file, e);
        }
        return c;
    }
}
