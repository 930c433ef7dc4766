package io.inflow.jobs.recovery;

import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * A completed checkpoint or savepoint a job can resume from: its directory (the one holding {@code _metadata}),
 * Flink's checkpoint id (savepoints take ids from the same counter, so the highest id is the newest state), and when
 * it was written.
 *
 * <pre>{@code
 * RestorePoint p = RestorePoint.read(Path.of("/home/me/.inflow/state/inflow-text/checkpoints/<job>/chk-42"), false);
 * System.out.println(p.describe());   // checkpoint 42, taken at 2026-05-03 10:18:07
 * }</pre>
 */
public record RestorePoint(Path directory, long checkpointId, boolean savepoint, Instant takenAt) {

    /** The file Flink writes last, when a checkpoint or savepoint is complete. */
    public static final String METADATA = "_metadata";

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneId.systemDefault());

    /**
     * Reads a checkpoint's or savepoint's metadata: a directory without {@code _metadata} (a checkpoint in
     * progress when the process died) or with a torn one (power loss while writing it) is not a restore point.
     *
     * @throws IOException when {@code _metadata} is missing or unreadable
     */
    public static RestorePoint read(Path directory, boolean savepoint) throws IOException {
        Path metadata = directory.resolve(METADATA);
        try (InputStream in = Files.newInputStream(metadata)) {
            CheckpointMetadata m = Checkpoints.loadCheckpointMetadata(new DataInputStream(in),
                    RestorePoint.class.getClassLoader(), directory.toString());
            return new RestorePoint(directory, m.getCheckpointId(), savepoint,
                    Files.getLastModifiedTime(metadata).toInstant());
        } catch (RuntimeException e) {
            throw new IOException("unreadable " + metadata + ": " + e, e);
        }
    }

    /** For logs: {@code checkpoint 42, taken at 2026-05-03 10:18:07} or {@code savepoint (checkpoint 43) ...}. */
    public String describe() {
        return (savepoint ? "savepoint (checkpoint " + checkpointId + ")" : "checkpoint " + checkpointId)
                + ", taken at " + TIME.format(takenAt);
    }
}
