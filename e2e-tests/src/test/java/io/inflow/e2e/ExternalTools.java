package io.inflow.e2e;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** External clients the end-to-end tests drive (kcat, prometheus): installed by .ci/run with apt. */
final class ExternalTools {

    private ExternalTools() {
    }

    /**
     * Skips the calling test when {@code tool} is not on PATH on a developer machine; fails it on CI (CI=true),
     * where .ci/run must have installed it.
     */
    static void requireOnPath(String tool) {
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (new File(dir, tool).canExecute()) {
                found = true;
                break;
            }
        }
        if (!found && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(tool + " is not installed; .ci/run must install it (apt-get install " + tool
                    + ")");
        }
        Assumptions.assumeTrue(found, tool + " is not installed (apt-get install " + tool + "); skipping");
    }

    /** Produces one record with kcat ({@code key|value} on stdin, {@code -K '|'}), as a user would. */
    static void kcatProduce(String bootstrap, String topic, String key, String value) throws Exception {
        kcat(key + "|" + value + "\n", "-P", "-b", bootstrap, "-t", topic, "-K", "|");
    }

    /** Produces a Kafka tombstone (the key with a null value) with kcat ({@code -Z}: empty values as NULL). */
    static void kcatTombstone(String bootstrap, String topic, String key) throws Exception {
        kcat(key + "|\n", "-P", "-b", bootstrap, "-t", topic, "-K", "|", "-Z");
    }

    /** Runs kcat with {@code stdin}; fails on a non-zero exit, with its output. */
    static void kcat(String stdin, String... args) throws Exception {
        requireOnPath("kcat");
        List<String> cmd = new ArrayList<>(List.of("kcat"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("kcat " + cmd + " failed: " + out);
        }
    }
}
