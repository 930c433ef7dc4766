package io.inflow.operators.retrieval;

import java.util.Map;
import java.util.TreeMap;

/**
 * Long labels in the lexicographic order of document ids, so the kernels can break score ties by "lower document id
 * first" with one integer comparison (order maintenance with gaps). A new id takes the midpoint of its neighbours'
 * labels; when two neighbours have no room left, every label is reassigned evenly ({@link Relabel} is told about
 * each change), which is rare: ids appended in order always find room, and the gaps start at 2^32 (32 halvings between two neighbours before a relabel).
 *
 * <pre>{@code
 * TieLabels labels = new TieLabels();
 * long a = labels.add("doc-a", (id, l) -> {});
 * long c = labels.add("doc-c", (id, l) -> {});
 * long b = labels.add("doc-b", (id, l) -> {});   // a < b < c
 * }</pre>
 */
final class TieLabels {

    /** Distance between consecutive labels after a relabel, and the step past the last label. */
    static final long GAP = 1L << 32;

    /** Told about every label a relabel changed. */
    @FunctionalInterface
    interface Relabel {
        void changed(String docId, long label);
    }

    private final TreeMap<String, Long> labels = new TreeMap<>();

    /** The label of a new id (ids already present keep theirs). */
    long add(String docId, Relabel relabel) {
        Long existing = labels.get(docId);
        if (existing != null) {
            return existing;
        }
        Map.Entry<String, Long> lower = labels.lowerEntry(docId);
        Map.Entry<String, Long> higher = labels.higherEntry(docId);
        long lo = lower == null ? 0 : lower.getValue();
        long label;
        if (higher == null) {
            label = lo + GAP;
            if (label < lo) { // overflow after very many appends: spread everything out again
                labels.put(docId, 0L);
                relabelAll(relabel);
                return labels.get(docId);
            }
        } else if (higher.getValue() - lo >= 2) {
            label = lo + (higher.getValue() - lo) / 2;
        } else {
            labels.put(docId, 0L);
            relabelAll(relabel);
            return labels.get(docId);
        }
        labels.put(docId, label);
        return label;
    }

    /** Forgets an id. */
    void remove(String docId) {
        labels.remove(docId);
    }

    /** The label of an id, or null. */
    Long label(String docId) {
        return labels.get(docId);
    }

    int size() {
        return labels.size();
    }

    private void relabelAll(Relabel relabel) {
        long next = GAP;
        for (Map.Entry<String, Long> e : labels.entrySet()) {
            e.setValue(next);
            relabel.changed(e.getKey(), next);
            next += GAP;
            if (next < 0) {
                throw new IllegalStateException("more than 2^31 documents in one shard");
            }
        }
    }
}
