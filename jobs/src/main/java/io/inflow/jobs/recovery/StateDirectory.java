package io.inflow.jobs.recovery;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.RecoveryClaimMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One pipeline's state on disk, the layout Flink writes into plus what Inflow adds:
 * <pre>
 * &lt;root&gt;/checkpoints/&lt;flink job id&gt;/chk-N/_metadata   retained checkpoints (one run directory per process)
 * &lt;root&gt;/savepoints/savepoint-&lt;...&gt;/_metadata        final savepoints of Ctrl-C and ./inflow stop
 * &lt;root&gt;/discarded/&lt;time&gt;/                          what --fresh moved aside
 * &lt;root&gt;/running.lock, running.json                  while a process runs the job (see {@link RunningJob})
 * </pre>
 * The newest restore point is the completed checkpoint or savepoint with the highest checkpoint id (a restored job
 * continues the counter, savepoints draw from it too).
 *
 * <pre>{@code
 * StateDirectory dir = StateDirectory.of(StateOptions.stateDir(conf), "inflow-text");
 * Optional<RestorePoint> from = dir.latest();
 * dir.configure(conf, from);          // checkpoint + savepoint dirs, retention, execution.state-recovery.path
 * }</pre>
 */
public final class StateDirectory {

    private static final Logger LOG = LoggerFactory.getLogger(StateDirectory.class);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private final Path root;

    private StateDirectory(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** {@code <stateDir>/<name>}, with characters other than letters, digits, '.', '_' and '-' replaced by '_'. */
    public static StateDirectory of(Path stateDir, String name) {
        return new StateDirectory(stateDir.resolve(name.replaceAll("[^A-Za-z0-9._-]", "_")));
    }

    /** A directory used as is (the demo's {@code <data-dir>/flink-state}). */
    public static StateDirectory at(Path root) {
        return new StateDirectory(root);
    }

    public Path root() {
        return root;
    }

    public Path checkpoints() {
        return root.resolve("checkpoints");
    }

    public Path savepoints() {
        return root.resolve("savepoints");
    }

    /**
     * Every completed checkpoint and savepoint, oldest first. Directories without readable metadata (in progress
     * or torn when the process died) are skipped with a log line.
     */
    public List<RestorePoint> completed() {
        List<RestorePoint> points = new ArrayList<>();
        for (Path run : children(checkpoints())) {
            for (Path chk : children(run)) {
                if (chk.getFileName().toString().startsWith("chk-")) {
                    readInto(points, chk, false);
                }
            }
        }
        for (Path sp : children(savepoints())) {
            readInto(points, sp, true);
        }
        points.sort(Comparator.comparingLong(RestorePoint::checkpointId).thenComparing(RestorePoint::takenAt));
        return points;
    }

    /** The newest completed checkpoint or savepoint, if any. */
    public Optional<RestorePoint> latest() {
        List<RestorePoint> all = completed();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /**
     * Points Flink at this directory: checkpoints retained on failure and cancellation, savepoints beside them,
     * and, when {@code from} is present and the configuration names no restore path itself, the job resumes from
     * it. A retained checkpoint is claimed (Flink deletes it once a newer one completes); a savepoint is not (it
     * stays until you delete it).
     */
    public void configure(Configuration conf, Optional<RestorePoint> from) {
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints().toUri().toString());
        conf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, savepoints().toUri().toString());
        conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        if (from.isPresent() && !conf.contains(StateRecoveryOptions.SAVEPOINT_PATH)) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, from.get().directory().toUri().toString());
            conf.set(StateRecoveryOptions.RESTORE_MODE,
                    from.get().savepoint() ? RecoveryClaimMode.NO_CLAIM : RecoveryClaimMode.CLAIM);
        }
    }

    /**
     * Moves the checkpoints and savepoints to {@code <root>/discarded/<time>} (nothing is deleted: remove that
     * directory when you no longer need it).
     *
     * @return where they went, or empty when there was nothing to move
     */
    public Optional<Path> moveAside() {
        List<Path> present = Stream.of(checkpoints(), savepoints()).filter(Files::isDirectory).toList();
        if (present.isEmpty()) {
            return Optional.empty();
        }
        Path target = root.resolve("discarded").resolve(LocalDateTime.now().format(STAMP));
        try {
            Files.createDirectories(target);
            for (Path p : present) {
                Files.move(p, target.resolve(p.getFileName()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move the old state in " + root + " aside", e);
        }
        LOG.info("moved the old state of {} to {}", root, target);
        return Optional.of(target);
    }

    /**
     * Deletes run directories under {@code checkpoints/} that hold no completed checkpoint newer than {@code keep}
     * (runs that never completed one, runs whose checkpoint a later run claimed, runs superseded by a newer
     * savepoint). Savepoints are never deleted. Call only while holding the {@link RunningJob} lock.
     */
    public void pruneSuperseded(Optional<RestorePoint> keep) {
        long newest = keep.map(RestorePoint::checkpointId).orElse(Long.MIN_VALUE);
        Path keepDir = keep.map(RestorePoint::directory).orElse(null);
        for (Path run : children(checkpoints())) {
            boolean holdsNewer = false;
            for (Path chk : children(run)) {
                if (chk.equals(keepDir) || isNewer(chk, newest)) {
                    holdsNewer = true;
                    break;
                }
            }
            if (!holdsNewer) {
                LOG.info("deleting superseded checkpoint directory {}", run);
                deleteTree(run);
            }
        }
    }

    private static boolean isNewer(Path chk, long than) {
        if (!chk.getFileName().toString().startsWith("chk-")) {
            return false;
        }
        try {
            return RestorePoint.read(chk, false).checkpointId() >= than;
        } catch (IOException e) {
            return false;
        }
    }

    private static void readInto(List<RestorePoint> points, Path dir, boolean savepoint) {
        if (!Files.exists(dir.resolve(RestorePoint.METADATA))) {
            return; // in progress when the process ended: Flink writes _metadata last
        }
        try {
            points.add(RestorePoint.read(dir, savepoint));
        } catch (IOException e) {
            LOG.warn("skipping {}: {}", dir, e.getMessage());
        }
    }

    private static List<Path> children(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", dir, e.toString());
        }
    }
}
