package io.inflow.sqlclient;

import org.apache.flink.configuration.Configuration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The command line of {@code ./inflow sql}: Inflow's own options (where Kafka is, Flink configuration) and the SQL
 * client's options, which are passed on to Flink's {@code SqlClient} (embedded mode) after their files were checked.
 *
 * <p>{@code SqlClientOptions o = SqlClientOptions.parse(new String[] {"-f", "job.sql"}, Path.of("."));}
 *
 * @param bootstrapServers an existing Kafka cluster, or null for the embedded broker with the demo's sample
 * @param createTopics with {@code bootstrapServers}: create the input and output topics when missing
 * @param configuration {@code -Dkey=value} and {@code --config FILE} keys: the local Flink cluster's and the SQL
 *     session's configuration (Flink keys, {@code inflow.*} keys, {@code table.*} keys)
 * @param init the user's {@code -i FILE} (absolute), run after Inflow's init script, or null
 * @param clientArgs the SQL client's other options ({@code -f}, {@code -j}, {@code -l}, {@code -hist}), files made
 *     absolute
 * @param help {@code -h} / {@code --help}
 * @param jobManager {@code --jobmanager HOST:PORT}: the REST address of an existing Flink cluster the session's jobs
 *     go to instead of a local one, or null
 */
public record SqlClientOptions(String bootstrapServers, boolean createTopics, Configuration configuration, Path init,
        List<String> clientArgs, boolean help, JobManager jobManager) {

    /** The REST address of a Flink cluster's JobManager (what {@code flink run -m} and the web UI use). */
    public record JobManager(String host, int port) {

        /**
         * Parses {@code HOST:PORT} (an IPv6 host in brackets).
         *
         * @throws IllegalArgumentException naming {@code --jobmanager} and the value
         */
        static JobManager parse(String value) {
            String v = value.strip();
            int colon = v.lastIndexOf(':');
            String host = colon > 0 ? v.substring(0, colon) : "";
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port = -1;
            try {
                port = colon > 0 ? Integer.parseInt(v.substring(colon + 1)) : -1;
            } catch (NumberFormatException e) {
                // reported below
            }
            if (host.isBlank() || host.contains("/") || port < 1 || port > 65535) {
                throw new IllegalArgumentException("--jobmanager needs HOST:PORT, the REST address of the cluster's"
                        + " JobManager with a port in 1..65535 (e.g. localhost:8081), got '" + value + "'");
            }
            return new JobManager(host, port);
        }

        /** {@code http://host:port}. */
        public String url() {
            return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    static final String USAGE = """
            Usage: ./inflow sql [--bootstrap-servers HOST:PORT [--create-topics]] [--jobmanager HOST:PORT]
                                [-Dkey=value ...] [--config FILE] [-f FILE] [-i FILE] [-j JAR] [-l DIR] [-hist FILE]

            Flink's SQL client (embedded mode) with Inflow's ML_PREDICT model provider ('provider' = 'inflow'), the
            Kafka SQL connector and the JSON format, on a local Flink cluster (web UI and metrics on loopback ports)
            or, with --jobmanager, on an existing one.
            Its init script registers TABLE events (the text-event topic, JSON), TABLE embeddings (id, embedding) and
            MODEL embedder (all-minilm-l6-v2). Interactive unless -f is given; QUIT; or Ctrl-D ends the session.

              (no --bootstrap-servers)  start a Kafka broker (KRaft, loopback, temporary) and produce the demo's
                                        sample to events.text first (1,200 text events + 12 malformed records)
              --bootstrap-servers HOST:PORT   use this Kafka cluster instead (nothing is produced)
              --create-topics                 with --bootstrap-servers: create events.text and embeddings if missing
              --jobmanager HOST:PORT          run the session's jobs on this Flink cluster (its JobManager's REST
                                              address, as flink run -m) instead of a local one; needs
                                              --bootstrap-servers. Each job ships Inflow's jars (pipeline.jars: the
                                              cluster jar jobs/target/inflow-jobs-*-flink.jar or $INFLOW_JOB_JAR, the
                                              sql module, Flink's table runtime and JSON format), so the cluster needs
                                              nothing in lib/ but Flink. Jobs still running when the session ends keep
                                              running there.
              -Dkey=value, --config FILE      configuration of the local cluster (if any) and the SQL session, e.g.
                                              -Dinflow.compute.threads=4 -Dparallelism.default=2
                                              -Dinflow.topics.text-events=my.events -Dinflow.sql.output-topic=vectors
              -f, --file FILE       run the statements in FILE, then exit (non-interactive); an INSERT needs
                                    SET 'table.dml-sync' = 'true'; and a bounded source to finish before the exit
              -i, --init FILE       more initialisation statements, run after Inflow's
              -j, --jar JAR         -l, --library DIR     -hist, --history FILE     as in Flink's SQL client
              -h, --help            this text
            """;

    /** Options of Flink's SQL client that take a file or directory: passed on with the path made absolute. */
    private static final Map<String, String> CLIENT_PATH_OPTIONS = Map.of("-f", "-f", "--file", "-f", "-j", "-j",
            "--jar", "-j", "-l", "-l", "--library", "-l", "-hist", "-hist", "--history", "-hist");

    /**
     * Parses and checks the arguments after {@code sql}; files are resolved against {@code cwd} (the directory the
     * user ran {@code ./inflow} in) and must exist (except a history file).
     *
     * @throws IllegalArgumentException naming the option and what is wrong with it
     */
    public static SqlClientOptions parse(String[] args, Path cwd) {
        String bootstrap = null;
        boolean createTopics = false;
        boolean help = false;
        JobManager jobManager = null;
        Path init = null;
        Configuration fromFile = new Configuration();
        Configuration fromArgs = new Configuration();
        List<String> clientArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("-D")) {
                int eq = a.indexOf('=');
                if (eq < 3) {
                    throw new IllegalArgumentException("expected -Dkey=value, got '" + a + "'");
                }
                fromArgs.setString(a.substring(2, eq), a.substring(eq + 1));
            } else if (a.equals("--create-topics")) {
                createTopics = true;
            } else if (a.equals("-h") || a.equals("--help")) {
                help = true;
            } else if (a.equals("--bootstrap-servers")) {
                bootstrap = value(args, i++).strip();
                if (bootstrap.isEmpty()) {
                    throw new IllegalArgumentException("--bootstrap-servers needs HOST:PORT[,HOST:PORT...]");
                }
            } else if (a.equals("--jobmanager")) {
                jobManager = JobManager.parse(value(args, i++));
            } else if (a.equals("--config")) {
                fromFile.addAll(readConfig(existing(cwd, a, value(args, i++), false)));
            } else if (a.equals("-i") || a.equals("--init")) {
                if (init != null) {
                    throw new IllegalArgumentException(a + " given twice: put the statements into one file");
                }
                init = existing(cwd, a, value(args, i++), false);
            } else if (CLIENT_PATH_OPTIONS.containsKey(a)) {
                String option = CLIENT_PATH_OPTIONS.get(a);
                String v = value(args, i++);
                Path p = option.equals("-hist") ? cwd.resolve(v).toAbsolutePath().normalize()
                        : existing(cwd, a, v, option.equals("-l"));
                if (option.equals("-f") && clientArgs.contains("-f")) {
                    throw new IllegalArgumentException(a + " given twice: put the statements into one file");
                }
                clientArgs.add(option);
                clientArgs.add(p.toString());
            } else {
                throw new IllegalArgumentException("unknown option '" + a + "' for 'inflow sql'\n" + USAGE);
            }
        }
        if (createTopics && bootstrap == null) {
            throw new IllegalArgumentException("--create-topics needs --bootstrap-servers (the embedded broker"
                    + " always has its topics)");
        }
        if (jobManager != null && bootstrap == null && !help) {
            throw new IllegalArgumentException("--jobmanager needs --bootstrap-servers: the embedded demo broker"
                    + " listens on loopback and ends with the session, while the session's jobs keep running on the"
                    + " cluster");
        }
        fromFile.addAll(fromArgs);
        return new SqlClientOptions(bootstrap, createTopics, fromFile, init, List.copyOf(clientArgs), help,
                jobManager);
    }

    /** Whether the session runs a script ({@code -f}) and exits, rather than reading statements from the terminal. */
    public boolean script() {
        return clientArgs.contains("-f");
    }

    private static String value(String[] args, int i) {
        if (i + 1 >= args.length || args[i + 1].isEmpty()) {
            throw new IllegalArgumentException(args[i] + " needs a value");
        }
        return args[i + 1];
    }

    private static Path existing(Path cwd, String option, String value, boolean directory) {
        Path p = cwd.resolve(value).toAbsolutePath().normalize();
        if (directory ? !Files.isDirectory(p) : !Files.isRegularFile(p)) {
            throw new IllegalArgumentException(option + " " + value + ": no such " + (directory ? "directory" : "file")
                    + (p.toString().equals(value) ? "" : " (" + p + ")"));
        }
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException(option + " " + value + ": not readable (" + p + ")");
        }
        return p;
    }

    /** {@code key: value} lines, {@code #} comments (Flink's flat config format, as {@code ./inflow run} reads it). */
    static Configuration readConfig(Path file) {
        Configuration c = new Configuration();
        try {
            for (String line : Files.readAllLines(file)) {
                String l = line.strip();
                if (l.isEmpty() || l.startsWith("#")) {
                    continue;
                }
                int colon = l.indexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException("--config " + file + ": expected 'key: value', got '" + line
                            + "'");
                }
                c.setString(l.substring(0, colon).strip(), l.substring(colon + 1).strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read --config " + file, e);
        }
        return c;
    }
}
