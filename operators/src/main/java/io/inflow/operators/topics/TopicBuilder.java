package io.inflow.operators.topics;

import io.inflow.gpu.cluster.ClusteringOps;
import io.inflow.gpu.cluster.CondensedTree;
import io.inflow.gpu.cluster.DensityTree;
import io.inflow.gpu.cluster.Hdbscan;
import io.inflow.gpu.cluster.Pca;
import io.inflow.gpu.cluster.Points;
import io.inflow.gpu.cluster.TreeAssigner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One rebuild of a key's topic tree, off the task thread: PCA (optional), the density tree, stable topic ids, the
 * snapshot. Topic ids stay stable by member overlap: each new cluster, largest first, takes the id of the earlier
 * topic whose members (window events whose last path held it) overlap it most, when their Jaccard index is at least
 * {@link #MATCH_JACCARD}; otherwise it gets a new id and is recorded as born, split (its members came mostly from one
 * topic that lives on) or merged (from several). Earlier topics no new cluster matched are recorded as died.
 *
 * <pre>{@code
 * TopicBuilder.Result r = TopicBuilder.build("acme|text", window.copy(), settings, backend.clustering());
 * r.model().assign(event);   r.snapshot().nodes();   r.paths()[i];
 * }</pre>
 */
public final class TopicBuilder {

    /** Overlap (intersection over union of members) at which a new cluster keeps an earlier topic's id. */
    public static final double MATCH_JACCARD = 0.5;
    /** Share of a new topic's members an earlier topic must give to count as where it came from. */
    static final double SOURCE_SHARE = 0.2;

    /**
     * What a rebuild produced.
     *
     * @param model the tree for assigning events
     * @param snapshot the tree as published
     * @param paths each window event's topic path in the new tree (same order as the window)
     * @param nextTopic the next unused topic id after this rebuild
     */
    public record Result(TopicModel model, TopicTreeSnapshot snapshot, long[][] paths, long nextTopic) {
    }

    private TopicBuilder() {
    }

    /**
     * The model of a restored window, under the window's own version: the tree is built again from the same events,
     * and its topic ids come back through the events' restored paths.
     */
    public static TopicModel rebuildRestored(String key, TopicWindow window, TopicSettings settings,
            ClusteringOps ops) {
        return build(key, window, settings, ops, window.version).model();
    }

    /** Builds the tree of {@code window}, a compact copy ({@link TopicWindow#copy()}: oldest first, head 0). */
    public static Result build(String key, TopicWindow window, TopicSettings settings, ClusteringOps ops) {
        return build(key, window, settings, ops, window.version + 1);
    }

    private static Result build(String key, TopicWindow window, TopicSettings settings, ClusteringOps ops,
            long version) {
        long t0 = System.nanoTime();
        int n = window.size();
        Points points = new Points(window.vectors, n, window.dim);
        Pca pca = null;
        if (settings.pcaComponents() > 0) {
            pca = ops.principalComponents(points, settings.pcaComponents());
            points = pca.project(points);
        }
        DensityTree tree = new Hdbscan(ops).build(points, settings.params());
        CondensedTree ct = tree.tree();
        int k = ct.clusters();
        List<List<Integer>> members = new ArrayList<>();
        for (int c = 0; c < k; c++) {
            members.add(new ArrayList<>());
        }
        List<List<Integer>> pathOf = new ArrayList<>(n); // each point's clusters, deepest first (used twice)
        for (int p = 0; p < n; p++) {
            List<Integer> path = tree.path(p);
            pathOf.add(path);
            for (int c : path) {
                members.get(c).add(p);
            }
        }
        // earlier topics' members, from the paths events had in the last tree
        Map<Long, Integer> oldSize = new HashMap<>();
        for (long[] path : window.paths) {
            for (long t : path == null ? new long[0] : path) {
                oldSize.merge(t, 1, Integer::sum);
            }
        }
        long[] topicOf = new long[k];
        Arrays.fill(topicOf, -1);
        Set<Long> taken = new HashSet<>();
        long next = window.nextTopic;
        Integer[] bySize = new Integer[k];
        for (int c = 0; c < k; c++) {
            bySize[c] = c;
        }
        Arrays.sort(bySize, (a, b) -> a == 0 ? -1 : b == 0 ? 1 : Integer.compare(members.get(b).size(),
                members.get(a).size()));
        List<TopicChange> changes = new ArrayList<>();
        int born = 0;
        for (int c : bySize) {
            Map<Long, Integer> overlap = new HashMap<>();
            Map<Long, Integer> deepestSource = new HashMap<>();
            for (int p : members.get(c)) {
                long[] path = window.paths[p];
                if (path == null || path.length == 0) {
                    continue;
                }
                for (long t : path) {
                    overlap.merge(t, 1, Integer::sum);
                }
                deepestSource.merge(path[0], 1, Integer::sum);
            }
            long best = -1;
            double bestJ = MATCH_JACCARD;
            for (Map.Entry<Long, Integer> e : overlap.entrySet()) {
                if (taken.contains(e.getKey())) {
                    continue;
                }
                double j = e.getValue() / (double) (members.get(c).size() + oldSize.get(e.getKey()) - e.getValue());
                if (j >= bestJ || (c == 0 && best < 0 && isRootOfOld(e.getKey(), window))) {
                    bestJ = Math.max(j, bestJ);
                    best = e.getKey();
                }
            }
            if (best >= 0) {
                topicOf[c] = best;
                taken.add(best);
                continue;
            }
            topicOf[c] = next++;
            taken.add(topicOf[c]);
            if (window.version == 0) {
                continue; // the first tree: nothing to change from
            }
            int withSource = deepestSource.values().stream().mapToInt(Integer::intValue).sum();
            List<Long> from = new ArrayList<>();
            for (Map.Entry<Long, Integer> e : deepestSource.entrySet()) {
                if (e.getValue() >= SOURCE_SHARE * Math.max(1, withSource)) {
                    from.add(e.getKey());
                }
            }
            from.sort(null);
            String kind = from.size() >= 2 ? "merged" : from.size() == 1 ? "split" : "born";
            changes.add(new TopicChange(kind, topicOf[c], List.copyOf(from)));
            born++;
        }
        int died = 0;
        for (long t : oldSize.keySet()) {
            if (!taken.contains(t)) {
                changes.add(new TopicChange("died", t, List.of()));
                died++;
            }
        }
        changes.sort((a, b) -> Long.compare(a.topic(), b.topic()));
        long[][] paths = new long[n][];
        for (int p = 0; p < n; p++) {
            List<Integer> path = pathOf.get(p);
            paths[p] = new long[path.size()];
            for (int i = 0; i < path.size(); i++) {
                paths[p][i] = topicOf[path.get(i)];
            }
        }
        double[] stability = ct.stability();
        List<TopicNode> nodes = new ArrayList<>();
        for (int c = 0; c < k; c++) {
            // the node's own members first (those that leave it directly, not through a child topic), densest
            // first: a parent's representatives then differ from its children's
            final int node = c;
            List<Integer> densest = new ArrayList<>(members.get(c));
            densest.sort((a, b) -> {
                boolean ownA = ct.pointCluster(a) == node;
                boolean ownB = ct.pointCluster(b) == node;
                return ownA != ownB ? (ownA ? -1 : 1) : Double.compare(tree.core()[a], tree.core()[b]);
            });
            List<String> ids = new ArrayList<>();
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < Math.min(settings.representatives(), densest.size()); i++) {
                ids.add(window.ids[densest.get(i)]);
                texts.add(window.texts[densest.get(i)]);
            }
            nodes.add(new TopicNode(topicOf[c], c == 0 ? -1 : topicOf[ct.parent(c)],
                    c == 0 ? 0 : 1 / ct.birthLambda(c), ct.size(c), stability[c], tree.selected()[c],
                    List.copyOf(ids), List.copyOf(texts)));
        }
        double churn = window.version == 0 ? 0 : (born + died) / (double) Math.max(1, oldSize.size() + k);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        TopicTreeSnapshot snapshot = new TopicTreeSnapshot(key, version, System.currentTimeMillis(), n,
                tree.noiseShare(), ms, churn, List.copyOf(nodes), List.copyOf(changes));
        TopicModel model = new TopicModel(new TreeAssigner(points, tree, settings.params()), pca, topicOf, version);
        return new Result(model, snapshot, paths, next);
    }

    /** Whether {@code topic} was the root of the last tree (the last entry of the events' paths). */
    private static boolean isRootOfOld(long topic, TopicWindow window) {
        for (long[] path : window.paths) {
            if (path != null && path.length > 0) {
                return path[path.length - 1] == topic;
            }
        }
        return false;
    }
}
