package io.inflow.jobs.recovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The one process that runs a pipeline's job from a {@link StateDirectory}: it holds an OS file lock on
 * {@code running.lock} (released by the OS however the process ends, kill -9 included, so a crash never leaves a
 * stale lock) and publishes {@code running.json} (pid, Flink job id, REST URL) for {@code ./inflow stop}.
 *
 * <pre>{@code
 * try (RunningJob running = RunningJob.claim(dir)) {       // fails if another process runs this pipeline
 *     JobClient job = env.executeAsync(name);
 *     running.publish(job.getJobID().toHexString(), flink.webUiUrl());
 *     ...
 * }
 * Optional<RunningJob.Info> info = RunningJob.find(dir);   // from another process: null unless the lock is held
 * }</pre>
 */
public final class RunningJob implements AutoCloseable {

    /** What {@code running.json} says. */
    public record Info(long pid, String jobId, String restUrl, Instant started) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LOCK = "running.lock";
    private static final String INFO = "running.json";

    private final StateDirectory dir;
    private final FileChannel channel;
    private final FileLock lock;

    private RunningJob(StateDirectory dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the pipeline's lock.
     *
     * @throws IllegalStateException when another process holds it, naming that process
     */
    public static RunningJob claim(StateDirectory dir) {
        try {
            Files.createDirectories(dir.root());
            FileChannel channel = FileChannel.open(dir.root().resolve(LOCK), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock = tryLock(channel);
            if (lock == null) {
                channel.close();
                String who = readInfo(dir).map(i -> " (pid " + i.pid() + ", job " + i.jobId() + ", " + i.restUrl()
                        + ")").orElse("");
                throw new IllegalStateException("another process is running this pipeline from " + dir.root() + who
                        + ": stop it first (./inflow stop), or use another --state-dir");
            }
            Files.deleteIfExists(dir.root().resolve(INFO));
            return new RunningJob(dir, channel, lock);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + dir.root().resolve(LOCK), e);
        }
    }

    /** Writes {@code running.json} for {@code ./inflow stop} (atomically: written beside, then moved). */
    public void publish(String jobId, String restUrl) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", ProcessHandle.current().pid());
        m.put("jobId", jobId);
        m.put("restUrl", restUrl);
        m.put("started", Instant.now().toString());
        try {
            Path tmp = dir.root().resolve(INFO + ".tmp");
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), m);
            Files.move(tmp, dir.root().resolve(INFO), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.root().resolve(INFO), e);
        }
    }

    /** The running process's info, or empty when no process holds the lock (none runs, or it crashed). */
    public static Optional<Info> find(StateDirectory dir) {
        Path lockFile = dir.root().resolve(LOCK);
        if (!Files.exists(lockFile)) {
            return Optional.empty();
        }
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock probe = tryLock(channel);
            if (probe != null) {
                probe.release();
                return Optional.empty();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot probe " + lockFile, e);
        }
        return readInfo(dir);
    }

    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null; // held by this JVM
        }
    }

    private static Optional<Info> readInfo(StateDirectory dir) {
        Path file = dir.root().resolve(INFO);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            JsonNode n = JSON.readTree(file.toFile());
            return Optional.of(new Info(n.path("pid").asLong(), n.path("jobId").asText(), n.path("restUrl").asText(),
                    Instant.parse(n.path("started").asText())));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        try {
            Files.deleteIfExists(dir.root().resolve(INFO));
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the OS releases the lock when the process ends anyway
        }
    }
}
