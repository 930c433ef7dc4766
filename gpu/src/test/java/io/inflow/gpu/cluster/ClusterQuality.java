package io.inflow.gpu.cluster;

import io.inflow.gpu.backend.cpu.FastCpuBackend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The README's clustering quality tables: for each labelled set, the density tree on full vectors and on the first
 * 2, 5 and 10 principal components, scored against the labels
 * <ul>
 *   <li>per tree level: level {@code L} labels every point with its cluster at depth {@code <= L} of the condensed
 *       tree (the deepest it belongs to, cut at {@code L}; depth 0 is the root), so each level is a partition, finer
 *       as {@code L} grows; ARI and NMI against the labels (noise counts as one group of its own at the flat level
 *       only: at a tree level every point has a cluster);</li>
 *   <li>the flat clusters (EOM), noise as its own group;</li>
 *   <li>dendrogram purity (Heller and Ghahramani 2005): over pairs of points with the same label, the share of that
 *       label among the points of the smallest tree cluster holding both; 1 when every label is a subtree. It scores
 *       the nesting itself, without choosing a cut, which is what a tree is for; next to it the same score with the
 *       labels shuffled (what a tree that ignores the labels gets).</li>
 * </ul>
 * For WordNet the nesting is also scored against WordNet's own hypernym hierarchy: dendrogram purity with each
 * synset labelled by its hypernym ancestor at depth {@code k} below {@code entity} (k = 2..5: from a handful of broad
 * classes down to hundreds of narrow ones), so a tree whose nesting follows the hypernym hierarchy scores high at every
 * depth.
 *
 * <p>Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec -Dbench.main=io.inflow.gpu.cluster.ClusterQuality
 * -Dbench.args="sets=digits,fashion,wordnet n=2000 pca=0,2,5,10"}
 */
public final class ClusterQuality {

    /** Pairs sampled for dendrogram purity (the estimate's standard error is below 0.005 at this count). */
    static final int PURITY_PAIRS = 20_000;
    static final int MAX_LEVEL = 6;

    private ClusterQuality() {
    }

    public static void main(String[] args) throws Exception {
        String[] sets = {"digits", "fashion", "wordnet"};
        int n = 2000;
        int[] pcas = {0, 2, 5, 10};
        int minSamples = 5;
        int minClusterSize = 10;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "sets" -> sets = kv[1].split(",");
                case "n" -> n = Integer.parseInt(kv[1]);
                case "pca" -> pcas = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "min-samples" -> minSamples = Integer.parseInt(kv[1]);
                case "min-cluster-size" -> minClusterSize = Integer.parseInt(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a
                        + " (sets=, n=, pca=, min-samples=, min-cluster-size=)");
            }
        }
        HdbscanParams params = new HdbscanParams(minSamples, minClusterSize, ClusterMetric.L2,
                HdbscanParams.Selection.EOM);
        System.out.printf("Density-tree quality: minSamples %d, minClusterSize %d, L2, EOM; %d points per set%n",
                minSamples, minClusterSize, n);
        try (FastCpuBackend backend = new FastCpuBackend(null, 2)) {
            Hdbscan hdbscan = new Hdbscan(backend.clustering());
            for (String set : sets) {
                List<WordNetGlosses.Synset> synsets = null;
                ClusterDataSets.Labelled data;
                switch (set) {
                    case "digits" -> data = ClusterDataSets.digits();
                    case "fashion" -> data = ClusterDataSets.fashionVit(n);
                    case "wordnet" -> {
                        synsets = WordNetGlosses.spread(WordNetGlosses.read(WordNetGlosses.DATA_NOUN), n);
                        data = ClusterDataSets.wordnetMiniLm(synsets);
                    }
                    default -> throw new IllegalArgumentException("unknown set " + set);
                }
                int[][] hypernymLabels = synsets == null ? null : hypernymLabels(synsets);
                for (int p : pcas) {
                    Points pts = data.points();
                    if (p > 0) {
                        pts = backend.clustering().principalComponents(pts, p).project(pts);
                    }
                    DensityTree tree = hdbscan.build(pts, params);
                    String dims = p == 0 ? "full " + data.points().dim() : "PCA " + p;
                    System.out.printf("%n%s (%d points, %d labels), %s: %d tree clusters, %d flat, %.0f%% noise%n",
                            data.name(), pts.n(), Arrays.stream(data.labels()).distinct().count(), dims,
                            tree.tree().clusters(), tree.flatClusters(), 100 * tree.noiseShare());
                    int[] depth = depths(tree.tree());
                    for (int level = 1; level <= MAX_LEVEL; level++) {
                        int[] cut = cut(tree.tree(), depth, level);
                        long groups = Arrays.stream(cut).distinct().count();
                        System.out.printf("  level %d: %4d groups, ARI %.3f, NMI %.3f%n", level, groups,
                                ClusterAgreement.adjustedRandIndex(cut, data.labels()),
                                ClusterAgreement.normalizedMutualInformation(cut, data.labels()));
                        if (groups == tree.tree().clusters()) {
                            break;
                        }
                    }
                    System.out.printf("  flat (EOM): ARI %.3f, NMI %.3f%n",
                            ClusterAgreement.adjustedRandIndex(tree.labels(), data.labels()),
                            ClusterAgreement.normalizedMutualInformation(tree.labels(), data.labels()));
                    System.out.printf("  dendrogram purity vs labels: %.3f (labels shuffled: %.3f)%n",
                            purity(tree.tree(), data.labels(), 1), purity(tree.tree(), shuffled(data.labels()), 1));
                    if (hypernymLabels != null) {
                        for (int k = 0; k < hypernymLabels.length; k++) {
                            int[] h = hypernymLabels[k];
                            System.out.printf("  dendrogram purity vs hypernym ancestor at depth %d (%d classes):"
                                    + " %.3f (shuffled: %.3f)%n", k + 2, Arrays.stream(h).filter(x -> x >= 0)
                                    .distinct().count(), purity(tree.tree(), h, 2), purity(tree.tree(), shuffled(h),
                                    2));
                        }
                    }
                }
            }
        }
    }

    /** Depth of every cluster (root 0). */
    static int[] depths(CondensedTree t) {
        int[] d = new int[t.clusters()];
        for (int c = 1; c < t.clusters(); c++) {
            d[c] = d[t.parent(c)] + 1; // parents have smaller ids
        }
        return d;
    }

    /** Each point's deepest cluster at depth <= level. */
    static int[] cut(CondensedTree t, int[] depth, int level) {
        int[] out = new int[t.points()];
        for (int p = 0; p < out.length; p++) {
            int c = t.pointCluster(p);
            while (depth[c] > level) {
                c = t.parent(c);
            }
            out[p] = c;
        }
        return out;
    }

    /**
     * Dendrogram purity over sampled pairs of points sharing a label (labels below 0 are left out): the share of the
     * pair's label among the labelled points of the smallest cluster holding both.
     */
    static double purity(CondensedTree t, int[] labels, long seed) {
        int k = t.clusters();
        int[] depth = depths(t);
        // label counts per cluster subtree
        List<Map<Integer, Integer>> counts = new ArrayList<>();
        int[] labelled = new int[k];
        for (int c = 0; c < k; c++) {
            counts.add(new HashMap<>());
        }
        for (int p = 0; p < t.points(); p++) {
            if (labels[p] < 0) {
                continue;
            }
            for (int c = t.pointCluster(p); c >= 0; c = t.parent(c)) {
                counts.get(c).merge(labels[p], 1, Integer::sum);
                labelled[c]++;
            }
        }
        Map<Integer, List<Integer>> byLabel = new HashMap<>();
        for (int p = 0; p < t.points(); p++) {
            if (labels[p] >= 0) {
                byLabel.computeIfAbsent(labels[p], x -> new ArrayList<>()).add(p);
            }
        }
        List<List<Integer>> groups = byLabel.values().stream().filter(g -> g.size() > 1).toList();
        long pairsTotal = groups.stream().mapToLong(g -> (long) g.size() * (g.size() - 1) / 2).sum();
        if (pairsTotal == 0) {
            return Double.NaN;
        }
        Random rnd = new Random(seed);
        double sum = 0;
        for (int s = 0; s < PURITY_PAIRS; s++) {
            // a pair drawn uniformly among all same-label pairs: its group by pair count, then two members
            long r = (long) (rnd.nextDouble() * pairsTotal);
            List<Integer> g = groups.get(groups.size() - 1);
            for (List<Integer> cand : groups) {
                long pc = (long) cand.size() * (cand.size() - 1) / 2;
                if (r < pc) {
                    g = cand;
                    break;
                }
                r -= pc;
            }
            int i = g.get(rnd.nextInt(g.size()));
            int j;
            do {
                j = g.get(rnd.nextInt(g.size()));
            } while (j == i);
            int a = t.pointCluster(i);
            int b = t.pointCluster(j);
            while (a != b) { // lowest common ancestor
                if (depth[a] >= depth[b]) {
                    a = t.parent(a);
                } else {
                    b = t.parent(b);
                }
            }
            sum += counts.get(a).get(labels[i]) / (double) labelled[a];
        }
        return sum / PURITY_PAIRS;
    }

    static int[] shuffled(int[] labels) {
        int[] out = labels.clone();
        Random rnd = new Random(99);
        for (int i = out.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int tmp = out[i];
            out[i] = out[j];
            out[j] = tmp;
        }
        return out;
    }

    /**
     * For each depth k = 2..5 below {@code entity}: every synset's hypernym ancestor at that depth (following the
     * first hypernym pointer up), as a label; -1 when its chain is shorter.
     */
    static int[][] hypernymLabels(List<WordNetGlosses.Synset> synsets) throws java.io.IOException {
        Map<Long, WordNetGlosses.Synset> all = new HashMap<>();
        for (WordNetGlosses.Synset s : WordNetGlosses.read(WordNetGlosses.DATA_NOUN)) {
            all.put(s.offset(), s);
        }
        int[][] out = new int[4][synsets.size()];
        for (int i = 0; i < synsets.size(); i++) {
            List<Long> chain = new ArrayList<>(); // the synset up to the root
            WordNetGlosses.Synset s = synsets.get(i);
            while (s != null && chain.size() < 100) {
                chain.add(s.offset());
                s = s.hypernyms().length == 0 ? null : all.get(s.hypernyms()[0]);
            }
            for (int k = 2; k <= 5; k++) {
                int idx = chain.size() - 1 - k; // chain[size-1] is the root (depth 0)
                out[k - 2][i] = idx >= 0 ? (int) (chain.get(idx) % Integer.MAX_VALUE) : -1;
            }
        }
        return out;
    }
}
