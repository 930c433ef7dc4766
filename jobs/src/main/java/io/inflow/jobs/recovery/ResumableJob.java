package io.inflow.jobs.recovery;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.jobs.config.ImageOptions;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A job that survives its process: before the job is built, {@link #prepare} locks the pipeline's
 * {@link StateDirectory}, picks the newest completed checkpoint or savepoint (or moves the old state aside with
 * {@code --fresh}) and points Flink at it; while the job runs, {@code running.json} tells {@code ./inflow stop}
 * where it is; {@link #awaitEnd} turns Ctrl-C into a stop with a final savepoint.
 *
 * <pre>{@code
 * try (ResumableJob state = ResumableJob.prepare(dir, conf, fresh, System.out)) {
 *     LocalFlink flink = LocalFlink.withFreePorts(conf);
 *     StreamExecutionEnvironment env = flink.environment();
 *     InflowPipeline.build(env, flink.configuration());
 *     JobClient job = env.executeAsync(name);
 *     state.started(job, flink.webUiUrl());
 *     return state.awaitEnd(job, StopSignal.install(System.out), System.out);
 * }
 * }</pre>
 */
public final class ResumableJob implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ResumableJob.class);

    private final StateDirectory dir;
    private final RunningJob running;
    private final Duration stopTimeout;

    private ResumableJob(StateDirectory dir, RunningJob running, Duration stopTimeout) {
        this.dir = dir;
        this.running = running;
        this.stopTimeout = stopTimeout;
    }

    /**
     * Locks {@code dir}, chooses where the job starts and configures {@code conf} accordingly; says what it chose
     * on {@code out} (and in the log): {@code resuming from <path> (checkpoint N, taken at <time>)}, or starting
     * fresh and why.
     */
    public static ResumableJob prepare(StateDirectory dir, Configuration conf, boolean fresh, PrintStream out) {
        RunningJob running = RunningJob.claim(dir);
        try {
            Optional<RestorePoint> from = Optional.empty();
            String where = "sources start at " + conf.get(KafkaOptions.STARTING_OFFSETS) + " (group "
                    + conf.get(KafkaOptions.GROUP_ID) + (conf.get(ImageOptions.ENABLED)
                            ? ", image group " + KafkaOptions.imageGroupId(conf) : "") + ")";
            if (conf.contains(StateRecoveryOptions.SAVEPOINT_PATH)) {
                say(out, "resuming from " + conf.get(StateRecoveryOptions.SAVEPOINT_PATH)
                        + " (set by execution.state-recovery.path)");
            } else if (fresh) {
                Optional<java.nio.file.Path> moved = dir.moveAside();
                say(out, "starting fresh (--fresh): " + moved.map(p -> "moved the old state to " + p + "; ")
                        .orElse("no old state; ") + where);
            } else {
                from = dir.latest();
                if (from.isPresent()) {
                    say(out, "resuming from " + from.get().directory() + " (" + from.get().describe() + ")");
                } else {
                    say(out, "no checkpoint in " + dir.root() + ": starting fresh; " + where);
                }
            }
            dir.pruneSuperseded(from);
            dir.configure(conf, from);
            return new ResumableJob(dir, running, conf.get(StateOptions.STOP_TIMEOUT));
        } catch (RuntimeException | Error e) {
            running.close();
            throw e;
        }
    }

    private static void say(PrintStream out, String line) {
        LOG.info(line);
        out.println(line);
        out.flush();
    }

    public StateDirectory directory() {
        return dir;
    }

    /** Publishes the running job for {@code ./inflow stop}. */
    public void started(JobClient job, String restUrl) {
        running.publish(job.getJobID().toHexString(), restUrl);
    }

    /**
     * Waits until the job ends by itself or a stop is requested; a request stops the job with a savepoint (or,
     * when that fails within {@code inflow.state.stop-timeout}, says so: the next run resumes from the latest
     * checkpoint).
     *
     * @return 0 when the job finished or stopped with a savepoint, 1 when it failed or the savepoint failed
     */
    public int awaitEnd(JobClient job, StopSignal stop, PrintStream out) throws InterruptedException {
        CompletableFuture<?> result = job.getJobExecutionResult();
        try {
            CompletableFuture.anyOf(result, stop.requested()).get();
        } catch (ExecutionException e) {
            say(out, "job failed: " + e.getCause() + "; the next run resumes from the latest checkpoint");
            return 1;
        }
        if (!result.isDone()) {
            try {
                String savepoint = StopWithSavepoint.viaClient(job, dir.savepoints(), stopTimeout);
                say(out, "stopped with savepoint " + savepoint + "; the same command resumes from it");
                result.get(stopTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                say(out, "could not stop with a savepoint (" + e.getMessage() + "); exiting: the next run resumes"
                        + " from the latest checkpoint");
                return 1;
            }
        }
        return 0;
    }

    @Override
    public void close() {
        running.close();
    }
}
