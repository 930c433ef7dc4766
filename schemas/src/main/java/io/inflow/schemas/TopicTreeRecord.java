package io.inflow.schemas;

import java.util.List;
import java.util.Objects;

/**
 * A density-tree snapshot on topic {@code topics}: the cluster hierarchy found over the window
 * [{@code windowStart}, {@code windowEnd}] (epoch ms). Nodes form one tree: exactly one root
 * ({@code parent == -1}), every other parent is the id of a node in the list, no cycles, ids unique.
 * The constructor enforces this.
 *
 * <p>Rebuild history (all optional, added without a version bump): {@code key} names the tree's tenant and
 * modality ({@code "acme|text"}; null when absent, else not empty); {@code treeVersion} counts the rebuilds of
 * that key (1 for the first tree, then one up per rebuild; 0 when absent, never negative); {@code noiseShare}
 * is the share of the clustered events labelled noise and {@code churn} the share of topics that changed since
 * the previous tree, (born + died) / (topics before + topics after) (each null when absent, else finite in
 * [0, 1]); {@code changes} lists the births, splits, merges and deaths of topics since the previous tree (never
 * null; empty when absent, and then omitted on the wire). The 6-argument constructor leaves them all absent.
 *
 * <p>{@code
 * var root = new TopicTreeRecord.Node(0, -1, 0.0, 120, 0.0, null, List.of(), false, List.of());
 * var leaf = new TopicTreeRecord.Node(12, 0, 0.8, 40, 3.2, "sports", List.of("msg-1", "msg-9"), true,
 *         List.of("Great match last night", "Who won the derby?"));
 * var split = new TopicTreeRecord.Change(TopicTreeRecord.Change.SPLIT, 12, List.of(4));
 * byte[] wire = RecordCodec.encode(new TopicTreeRecord("acme|text#7", start, end, now, model, List.of(root, leaf),
 *         "acme|text", 7, 0.18, 0.25, List.of(split)));
 * // a tree without history, as before:
 * byte[] plain = RecordCodec.encode(new TopicTreeRecord("w-42", start, end, now, model, List.of(root, leaf)));
 * }
 *
 * <p>New optional components are added here (and in the schema, README and codec) without a version bump;
 * readers of version 1 ignore fields they do not know.
 */
public record TopicTreeRecord(String treeId, long windowStart, long windowEnd, long createdAt, ModelRef model,
                              List<Node> nodes, String key, long treeVersion, Double noiseShare, Double churn,
                              List<Change> changes) {

    /** Id of the (absent) parent of the root. */
    public static final int NO_PARENT = -1;

    /**
     * A cluster in the tree. {@code lambda} is the density level (1 / distance) at which the cluster appears,
     * {@code size} the number of points in it, {@code stability} its excess-of-mass stability; both doubles are
     * finite and non-negative. {@code label} is null when absent; {@code exemplars} holds event ids (may be empty).
     *
     * <p>{@code selected} (null when absent) says whether the node is a flat cluster, i.e. whether events are
     * labelled with it. {@code exemplarTexts} (never null; empty when absent, and then omitted on the wire) holds
     * the texts of the exemplar events, in the order of {@code exemplars}: when not empty it has exactly as many
     * entries as {@code exemplars}. The 7-argument constructor leaves both absent.
     */
    public record Node(int id, int parent, double lambda, int size, double stability, String label,
                       List<String> exemplars, Boolean selected, List<String> exemplarTexts) {

        /** A node without {@code selected} (null) and without {@code exemplarTexts} (empty). */
        public Node(int id, int parent, double lambda, int size, double stability, String label,
                    List<String> exemplars) {
            this(id, parent, lambda, size, stability, label, exemplars, null, List.of());
        }

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
            exemplarTexts = Copies.list(exemplarTexts);
            if (!exemplarTexts.isEmpty() && exemplarTexts.size() != exemplars.size()) {
                throw new IllegalArgumentException("node " + id + " has " + exemplarTexts.size()
                        + " exemplarTexts but " + exemplars.size() + " exemplars: one text per exemplar, or none");
            }
        }
    }

    /**
     * How a rebuild changed the topics since the previous tree of the same key: {@code {"kind":"split","topic":12,
     * "from":[4]}}. {@code kind} is {@link #BORN} (a new topic), {@link #SPLIT} (a new topic cut from an existing
     * one), {@link #MERGED} (a new topic made of several earlier ones) or {@link #DIED} (an earlier topic that no
     * new one matched); anything else is rejected. {@code topic} is the node id of the topic born, split off or
     * merged into (a node of this tree), or of the topic that died (a node of the previous tree); {@code from}
     * holds the node ids of the earlier topics it came from (the clustering stage writes one for a split, two or
     * more for a merge, none for a birth or death). Ids are >= 0; {@code from} is copied and never null.
     */
    public record Change(String kind, int topic, List<Integer> from) {
        public static final String BORN = "born";
        public static final String SPLIT = "split";
        public static final String MERGED = "merged";
        public static final String DIED = "died";

        public Change {
            if (!knownKind(kind)) {
                throw new IllegalArgumentException("change kind must be 'born', 'split', 'merged' or 'died' (got "
                        + (kind == null ? "null" : "'" + kind + "'") + ")");
            }
            if (topic < 0) {
                throw new IllegalArgumentException("change topic must be >= 0 (got " + topic + ")");
            }
            if (from != null) {
                for (int i = 0; i < from.size(); i++) {
                    Integer id = from.get(i);
                    if (id == null || id < 0) {
                        throw new IllegalArgumentException("change of topic " + topic + ": from[" + i + "] is " + id
                                + ", must be a node id >= 0");
                    }
                }
            }
            from = Copies.list(from);
        }

        static boolean knownKind(String kind) {
            return BORN.equals(kind) || SPLIT.equals(kind) || MERGED.equals(kind) || DIED.equals(kind);
        }
    }

    /** A tree without rebuild history: {@code key} null, {@code treeVersion} 0, shares null, no changes. */
    public TopicTreeRecord(String treeId, long windowStart, long windowEnd, long createdAt, ModelRef model,
                           List<Node> nodes) {
        this(treeId, windowStart, windowEnd, createdAt, model, nodes, null, 0, null, null, List.of());
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
        if (key != null && key.isEmpty()) {
            throw new IllegalArgumentException("key must not be empty (null when absent)");
        }
        Copies.requireNonNegative(treeVersion, "treeVersion");
        requireShare(noiseShare, "noiseShare");
        requireShare(churn, "churn");
        changes = Copies.list(changes);
    }

    /** Null, or a finite share in [0, 1]. */
    private static void requireShare(Double value, String field) {
        if (value != null && !(value >= 0 && value <= 1)) { // NaN fails both comparisons
            throw new IllegalArgumentException(field + " must be in [0, 1] (got " + value + ")");
        }
    }
}
