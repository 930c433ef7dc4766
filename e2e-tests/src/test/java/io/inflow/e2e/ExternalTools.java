package io.inflow.e2e;

import org.junit.jupiter.api.Assumptions;

import java.io.File;

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
}
