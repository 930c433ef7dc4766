package io.inflow.gpu.cluster;

import java.util.HashMap;
import java.util.Map;

/**
 * How well two labelings of the same points agree: the adjusted Rand index (1 = identical partitions, about 0 =
 * chance) and normalized mutual information (arithmetic normalisation, as scikit-learn's default). Every label
 * value is a group, noise (-1) included: two clusterings agree only if they also agree on what is noise.
 *
 * <p>{@code double ari = ClusterAgreement.adjustedRandIndex(ours, oracle);}
 */
public final class ClusterAgreement {

    private ClusterAgreement() {
    }

    public static double adjustedRandIndex(int[] a, int[] b) {
        Contingency t = new Contingency(a, b);
        double sumCells = 0;
        for (long c : t.cells.values()) {
            sumCells += pairs(c);
        }
        double sumA = 0;
        for (long c : t.rowSums.values()) {
            sumA += pairs(c);
        }
        double sumB = 0;
        for (long c : t.colSums.values()) {
            sumB += pairs(c);
        }
        double total = pairs(a.length);
        double expected = total == 0 ? 0 : sumA * sumB / total;
        double max = (sumA + sumB) / 2;
        if (max == expected) {
            return 1.0; // both partitions trivial (all one group, or all singletons) and equal in that
        }
        return (sumCells - expected) / (max - expected);
    }

    public static double normalizedMutualInformation(int[] a, int[] b) {
        Contingency t = new Contingency(a, b);
        double n = a.length;
        double mi = 0;
        for (Map.Entry<Long, Long> e : t.cells.entrySet()) {
            int x = (int) (e.getKey() >> 32);
            int y = (int) (long) e.getKey();
            double nxy = e.getValue();
            mi += nxy / n * Math.log(n * nxy / ((double) t.rowSums.get(x) * t.colSums.get(y)));
        }
        double ha = entropy(t.rowSums, n);
        double hb = entropy(t.colSums, n);
        if (ha == 0 && hb == 0) {
            return 1.0;
        }
        return mi / ((ha + hb) / 2);
    }

    private static double entropy(Map<Integer, Long> counts, double n) {
        double h = 0;
        for (long c : counts.values()) {
            h -= c / n * Math.log(c / n);
        }
        return h;
    }

    private static double pairs(long c) {
        return c * (c - 1) / 2.0;
    }

    private static final class Contingency {
        final Map<Long, Long> cells = new HashMap<>();
        final Map<Integer, Long> rowSums = new HashMap<>();
        final Map<Integer, Long> colSums = new HashMap<>();

        Contingency(int[] a, int[] b) {
            if (a.length != b.length) {
                throw new IllegalArgumentException("labelings of " + a.length + " and " + b.length + " points");
            }
            for (int i = 0; i < a.length; i++) {
                cells.merge(((long) a[i] << 32) | (b[i] & 0xffffffffL), 1L, Long::sum);
                rowSums.merge(a[i], 1L, Long::sum);
                colSums.merge(b[i], 1L, Long::sum);
            }
        }
    }
}
