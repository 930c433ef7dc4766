package io.inflow.jobs.recovery;

import sun.misc.Signal;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Ctrl-C (SIGINT) and SIGTERM as a request to stop gracefully, instead of the JVM's immediate shutdown: the first
 * signal completes {@link #requested()} (the caller then takes a final savepoint and exits); a second one ends the
 * process at once (the next run then resumes from the latest checkpoint, as after a crash).
 *
 * <p>Signal handlers rather than a shutdown hook, because by the time shutdown hooks run, Flink's own hooks are
 * tearing the MiniCluster down concurrently and a savepoint can no longer complete.
 *
 * <pre>{@code
 * StopSignal stop = StopSignal.install(System.err);
 * CompletableFuture.anyOf(job.getJobExecutionResult(), stop.requested()).join();
 * }</pre>
 */
public final class StopSignal {

    /** Exit code after a second signal: 128 + SIGINT, as a shell reports an interrupted command. */
    public static final int FORCED_EXIT = 130;

    private final CompletableFuture<String> requested = new CompletableFuture<>();
    private final PrintStream out;

    private StopSignal(PrintStream out) {
        this.out = out;
    }

    /** Installs the handlers for INT and TERM; the previous handlers are replaced for the rest of the process. */
    public static StopSignal install(PrintStream out) {
        StopSignal s = new StopSignal(out);
        for (String name : List.of("INT", "TERM")) {
            Signal.handle(new Signal(name), sig -> s.onSignal("SIG" + sig.getName()));
        }
        return s;
    }

    /** Completes with the signal's name (e.g. {@code SIGINT}) when the first one arrives. */
    public CompletableFuture<String> requested() {
        return requested;
    }

    private void onSignal(String name) {
        if (requested.complete(name)) {
            out.println(name + ": stopping with a final savepoint (" + name + " again exits at once)");
        } else {
            out.println(name + " again: exiting without a savepoint; the next run resumes from the latest"
                    + " checkpoint");
            out.flush();
            Runtime.getRuntime().halt(FORCED_EXIT);
        }
        out.flush();
    }
}
