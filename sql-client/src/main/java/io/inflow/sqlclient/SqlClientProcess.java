package io.inflow.sqlclient;

import org.apache.flink.configuration.Configuration;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Flink's SQL client ({@code org.apache.flink.table.client.SqlClient}, embedded mode) as a JVM of its own on this
 * JVM's classpath, attached to this terminal (stdin, stdout, stderr inherited), with {@code FLINK_CONF_DIR} pointing
 * at a {@code config.yaml} that sends its jobs to the local cluster ({@code execution.target: remote}). Its log goes
 * to a file, so that nothing but the client writes to the terminal.
 *
 * <p>{@code int rc = SqlClientProcess.write(work, sessionConf).start(List.of("-i", init.toString()), cwd).waitFor();}
 */
final class SqlClientProcess {

    static final String MAIN_CLASS = "org.apache.flink.table.client.SqlClient";

    private final Path confDir;
    private final Path logConfig;

    private SqlClientProcess(Path confDir, Path logConfig) {
        this.confDir = confDir;
        this.logConfig = logConfig;
    }

    /**
     * Writes {@code work/conf/config.yaml} (the session's configuration) and the client's log configuration
     * ({@code work/log/sql-client.log}).
     */
    static SqlClientProcess write(Path work, Configuration session) throws IOException {
        Path conf = Files.createDirectories(work.resolve("conf"));
        StringBuilder yaml = new StringBuilder("# written by ./inflow sql: the SQL client's session configuration\n");
        Map<String, String> sorted = new TreeMap<>(session.toMap());
        sorted.forEach((k, v) -> yaml.append(k).append(": '").append(v.replace("'", "''")).append("'\n"));
        Files.writeString(conf.resolve("config.yaml"), yaml, StandardCharsets.UTF_8);
        Path logConfig = work.resolve("log4j2-sql-client.properties");
        Files.writeString(logConfig, logConfiguration(work.resolve("log").resolve("sql-client.log")),
                StandardCharsets.UTF_8);
        return new SqlClientProcess(conf, logConfig);
    }

    /** Log4j 2 configuration writing everything at INFO (Flink: WARN) to {@code file}, nothing to the terminal. */
    static String logConfiguration(Path file) {
        return """
                rootLogger.level = INFO
                rootLogger.appenderRef.file.ref = file
                appender.file.type = File
                appender.file.name = file
                appender.file.fileName = %s
                appender.file.layout.type = PatternLayout
                appender.file.layout.pattern = %%d{HH:mm:ss.SSS} %%-5level %%t %%c{1} - %%msg%%n
                logger.kafka.name = org.apache.kafka
                logger.kafka.level = WARN
                logger.kafkaserver.name = kafka
                logger.kafkaserver.level = WARN
                logger.flink.name = org.apache.flink
                logger.flink.level = WARN
                logger.flinkclient.name = org.apache.flink.table.client
                logger.flinkclient.level = INFO
                logger.flinkgateway.name = org.apache.flink.table.gateway
                logger.flinkgateway.level = INFO
                logger.djl.name = ai.djl
                logger.djl.level = ERROR
                """.formatted(file.toString().replace("\\", "/"));
    }

    Path confDir() {
        return confDir;
    }

    /** The command line of the client JVM: this JVM's {@code --add-*} flags and classpath. */
    List<String> command(List<String> clientArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-")) {
                cmd.add(a);
            }
        }
        cmd.add(System.getProperty("inflow.sql.client-heap", "-Xmx1g"));
        cmd.add("-Dlog4j2.configurationFile=" + logConfig.toUri());
        cmd.add("-cp");
        cmd.add(absoluteClassPath(System.getProperty("java.class.path")));
        cmd.add(MAIN_CLASS);
        cmd.add("embedded");
        cmd.addAll(clientArgs);
        return cmd;
    }

    /** {@code classPath} with each entry absolute (the client works in the user's directory); {@code dir/*} kept. */
    static String absoluteClassPath(String classPath) {
        StringBuilder b = new StringBuilder();
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            boolean wildcard = entry.endsWith("*");
            Path p = Path.of(wildcard ? entry.substring(0, entry.length() - 1) : entry).toAbsolutePath().normalize();
            b.append(b.length() == 0 ? "" : java.io.File.pathSeparator).append(p)
                    .append(wildcard ? java.io.File.separator + "*" : "");
        }
        return b.toString();
    }

    /** Starts the client attached to this terminal, working in {@code cwd} (where the user's relative paths are). */
    Process start(List<String> clientArgs, Path cwd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command(clientArgs)).directory(cwd.toFile()).inheritIO();
        pb.environment().put("FLINK_CONF_DIR", confDir.toString());
        return pb.start();
    }
}
