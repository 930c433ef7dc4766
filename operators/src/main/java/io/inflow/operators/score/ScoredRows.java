package io.inflow.operators.score;

import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ScorerRef;

import java.util.ArrayList;
import java.util.List;

/**
 * A scorer's class probabilities for every row of a batch.
 *
 * <p>{@code List<EnrichedEvent.Score> s = rows.row(3);   // e.g. [spam 0.97, ham 0.03], highest first}
 *
 * @param scorer        which scorer, at which precision
 * @param labels        class names in column order
 * @param probabilities {@code [rows, labels.size()]} row-major; each row sums to 1
 */
public record ScoredRows(ScorerRef scorer, List<String> labels, float[] probabilities) {

    public ScoredRows {
        labels = List.copyOf(labels);
        if (probabilities.length % labels.size() != 0) {
            throw new IllegalArgumentException(probabilities.length + " probabilities do not fill rows of "
                    + labels.size() + " labels");
        }
    }

    public int rows() {
        return probabilities.length / labels.size();
    }

    /** Row {@code r}'s scores, highest first (equal scores keep the label order). */
    public List<EnrichedEvent.Score> row(int r) {
        int n = labels.size();
        List<EnrichedEvent.Score> out = new ArrayList<>(n);
        for (int c = 0; c < n; c++) {
            out.add(new EnrichedEvent.Score(labels.get(c), probabilities[r * n + c]));
        }
        out.sort((a, b) -> Double.compare(b.score(), a.score()));
        return out;
    }

    /** The label of row {@code r}'s highest score. */
    public String top(int r) {
        return row(r).get(0).label();
    }
}
