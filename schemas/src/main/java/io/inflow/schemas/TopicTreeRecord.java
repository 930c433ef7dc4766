package io.inflow.schemas;

import java.util.List;
import java.util.Objects;

/**
 * A density-tree snapshot on topic {@code topics}: the cluster hierarchy found over the window
 * [{@code windowStart}, {@code windowEnd}] (epoch ms). Nodes form one tree: exactly one root
 * ({@code parent == -1}), every other parent is the id of a node in the list, no cycles, ids unique.
 * The constructor enforces this.
 *
 * <p>{@code
 * var root = new TopicTreeRecord.Node(0, -1, 0.0, 120, 0.0, null, List.of());
 * var leaf = new TopicTreeRecord.Node(1, 0, 0.8, 40, 3.2, "sports", List.of("msg-1", "msg-9"));
 * byte[] wire = RecordCodec.encode(new TopicTreeRecord("w-42", start, end, now, model, List.of(root, leaf)));
 * }
 */
public record TopicTreeRecord(String treeId, long windowStart, long windowEnd, long createdAt, ModelRef model,
                              List<Node> nodes) {

    /** Id of the (absent) parent of the root. */
    public static final int NO_PARENT = -1;

    /**
     * A cluster in the tree. {@code lambda} is the density level (1 / distance) at which the cluster appears,
     * {@code size} the number of points in it, {@code stability} its excess-of-mass stability; both doubles are
     * finite and non-negative. {@code label} is null when absent; {@code exemplars} holds event ids (may be empty).
     */
    public record Node(int id, int parent, double lambda, int size, double stability, String label,
                       List<String> exemplars) {
        public Node {
            if (id < 0) {
                throw new IllegalArgumentException("node id must be >= 0 (got " + id + ")");
            }
            if (parent < NO_PARENT) {
                throw new IllegalArgumentException("node " + id + " parent must be >= -1 (got " + parent + ")");
            }
            if (!Double.isFinite(lambda) || lambda < 0) {
                throw new IllegalArgumentException("node " + id + " lambda must be finite and >= 0 (got " + lambda + ")");
            }
            if (size < 1) {
                throw new IllegalArgumentException("node " + id + " size must be >= 1 (got " + size + ")");
            }
            if (!Double.isFinite(stability) || stability < 0) {
                throw new IllegalArgumentException(
                        "node " + id + " stability must be finite and >= 0 (got " + stability + ")");
            }
            exemplars = Copies.list(exemplars);
        }
    }

    public TopicTreeRecord {
        Copies.requireNonEmpty(treeId, "treeId");
        Copies.requireNonNegative(windowStart, "windowStart");
        if (windowEnd < windowStart) {
            throw new IllegalArgumentException("windowEnd " + windowEnd + " is before windowStart " + windowStart);
        }
        Copies.requireNonNegative(createdAt, "createdAt");
        Objects.requireNonNull(model, "model");
        nodes = Copies.list(nodes);
        String problem = TreeCheck.problem(nodes);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }
}
