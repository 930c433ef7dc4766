package io.inflow.e2e;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./inflow <command> ...} as its own JVM ({@code io.inflow.jobs.cli.Main} on the test classpath, with the
 * test JVM's {@code --add-opens} flags), so a test can kill it with SIGKILL like a user's {@code kill -9}. Its
 * stdout and stderr go to a log file the test reads.
 *
 * <p>{@code PipelineProcess p = PipelineProcess.start(logFile, "run", "--bootstrap-servers", b); p.kill9();}
 */
final class PipelineProcess implements AutoCloseable {

    private final Process process;
    private final Path log;

    private PipelineProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static PipelineProcess start(Path log, List<String> args) throws IOException {
        return start(log, List.of(), args);
    }

    /** As {@link #start(Path, List)} with extra JVM options (e.g. {@code -Dlog4j2.configurationFile=...}). */
    static PipelineProcess start(Path log, List<String> jvmArgs, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx1g");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.add("io.inflow.jobs.cli.Main");
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // a test JVM that ends early (timeout, crash) must not leave pipelines running
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        return new PipelineProcess(p, log);
    }

    /** Runs a short command ({@code stop}) to its end; returns its exit code, its output in {@code log}. */
    static int runToEnd(Path log, List<String> args, long timeoutSeconds) throws Exception {
        try (PipelineProcess p = start(log, args)) {
            if (!p.process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                throw new AssertionError("'" + String.join(" ", args) + "' did not end within " + timeoutSeconds
                        + " s:\n" + p.log());
            }
            return p.process.exitValue();
        }
    }

    long pid() {
        return process.pid();
    }

    /** SIGKILL (Process.destroyForcibly on Linux): no shutdown hook, no savepoint, no clean Kafka close. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for the process to end by itself; its exit code. */
    int awaitExit(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("process did not end within " + seconds + " s:\n" + log());
        }
        return process.exitValue();
    }

    String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
