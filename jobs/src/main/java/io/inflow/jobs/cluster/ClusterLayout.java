package io.inflow.jobs.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a standalone session cluster keeps its files, all under one data directory (default
 * {@code ~/.inflow/cluster}):
 * <pre>
 * conf/config.yaml, conf/log4j.properties   the Flink configuration every process reads (--configDir)
 * cluster.properties                        ports and sizes chosen at the first start (kept across restarts)
 * run/&lt;process&gt;.pid                        pid of jobmanager, taskmanager-1, taskmanager-2, ...
 * log/&lt;process&gt;.log, log/&lt;process&gt;.out    Flink's log file and the JVM's stdout/stderr
 * state/&lt;group&gt;/checkpoints, savepoints     the job's durable checkpoints (one directory per consumer group)
 * jars/                                     uploaded job jars (web.upload.dir)
 * </pre>
 *
 * <p>{@code ClusterLayout l = new ClusterLayout(Path.of("/var/lib/inflow")); Path log = l.log("taskmanager-1");}
 */
public record ClusterLayout(Path root) {

    /** Name of the JobManager process (pid and log files). */
    public static final String JOBMANAGER = "jobmanager";

    public static ClusterLayout defaultLocation() {
        return new ClusterLayout(Path.of(System.getProperty("user.home"), ".inflow", "cluster"));
    }

    /** Name of TaskManager {@code n} (1-based). */
    public static String taskManager(int n) {
        return "taskmanager-" + n;
    }

    public Path conf() {
        return root.resolve("conf");
    }

    public Path configYaml() {
        return conf().resolve("config.yaml");
    }

    public Path properties() {
        return root.resolve("cluster.properties");
    }

    public Path pidFile(String process) {
        return root.resolve("run").resolve(process + ".pid");
    }

    public Path log(String process) {
        return root.resolve("log").resolve(process + ".log");
    }

    public Path out(String process) {
        return root.resolve("log").resolve(process + ".out");
    }

    public Path state() {
        return root.resolve("state");
    }

    public Path jars() {
        return root.resolve("jars");
    }

    /** The pid written by the last start of {@code process}, if any (the process may be gone). */
    public Optional<Long> pid(String process) {
        Path f = pidFile(process);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Long.parseLong(Files.readString(f).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The live process of {@code process}: its pid file names a running JVM. */
    public Optional<ProcessHandle> alive(String process) {
        return pid(process).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive);
    }

    void writePid(String process, long pid) {
        try {
            Files.createDirectories(pidFile(process).getParent());
            Files.writeString(pidFile(process), pid + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void removePid(String process) {
        try {
            Files.deleteIfExists(pidFile(process));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
