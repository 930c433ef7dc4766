package io.inflow.operators.retrieval;

import java.util.List;
import java.util.Map;

/**
 * The merged answer to one query: the best documents over all shards (score descending, equal scores by document id
 * ascending), at most k, and the index state they were computed against.
 *
 * <p>{@code for (int i = 0; i < a.docIds().length; i++) use(a.docIds()[i], a.scores()[i], i + 1);}
 *
 * @param query the query
 * @param docIds best first
 * @param scores their scores
 * @param documents live documents over all shards in the versions searched
 * @param shards per shard (by index): its documents and last applied corpus offset per partition
 */
public record RetrievalAnswer(QueryRow query, String[] docIds, float[] scores, long documents,
        List<Shard> shards) {

    /** One shard's state when it answered. */
    public record Shard(int shard, int documents, Map<Integer, Long> lastOffsets) {
    }
}
