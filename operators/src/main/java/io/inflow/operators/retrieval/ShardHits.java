package io.inflow.operators.retrieval;

import java.util.Map;

/**
 * One shard's answer to one query: its best documents (ids and scores, best first, at most k), how many documents
 * it searched and the last corpus offset it had applied per partition. Shard 0's answer also carries the query, so
 * the merge can build the output once every shard answered.
 *
 * <p>{@code ShardHits h = new ShardHits(q.key(), 0, 2, ids, scores, 610, Map.of(0, 1523L), q);}
 *
 * @param queryKey {@link QueryRow#key()}
 * @param shard this shard (subtask index)
 * @param shards the number of shards the query went to
 * @param docIds hit document ids, best first
 * @param scores their scores (higher is better for every metric)
 * @param documents the shard's live documents in the version searched
 * @param lastOffsets the shard's last applied corpus offset per partition in that version
 * @param query the query (shard 0 only; null from the others)
 * @param firstScores with MaxSim rerank: the single-vector scores the candidates were chosen by ({@code scores} then
 *     holds their MaxSim scores; ids in first-stage order); null without rerank
 */
public record ShardHits(String queryKey, int shard, int shards, String[] docIds, float[] scores, int documents,
        Map<Integer, Long> lastOffsets, QueryRow query, float[] firstScores) {

    public ShardHits {
        if (docIds.length != scores.length) {
            throw new IllegalArgumentException(docIds.length + " ids for " + scores.length + " scores");
        }
        if (firstScores != null && firstScores.length != docIds.length) {
            throw new IllegalArgumentException(docIds.length + " ids for " + firstScores.length + " first scores");
        }
    }

    public ShardHits(String queryKey, int shard, int shards, String[] docIds, float[] scores, int documents,
            Map<Integer, Long> lastOffsets, QueryRow query) {
        this(queryKey, shard, shards, docIds, scores, documents, lastOffsets, query, null);
    }
}
