package io.inflow.operators.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.SourceRef;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/**
 * The merge waits (in keyed state, across a checkpoint) until every shard answered a query, then emits the best k
 * over all shards in score order, equal scores by document id, with the shards' states in shard order.
 */
class MergeShardHitsTest {

    private static final RawRecord RAW = new RawRecord("events.text", 0, 42, 1, null, "x".getBytes());
    private static final QueryRow QUERY = new QueryRow(new float[] {1, 0}, null,
            new EnrichedEvent("e1", "text", new SourceRef("events.text", 0, 42, 1), new ModelRef("m", "1"), 2,
                    false, null, null, null, List.of(), Map.of(), 1), RAW);

    private static KeyedOneInputStreamOperatorTestHarness<String, ShardHits, RetrievalAnswer> harness()
            throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new MergeShardHits(3)),
                ShardHits::queryKey, Types.STRING);
    }

    private static ShardHits shard(int shard, String[] ids, float[] scores) {
        return new ShardHits(QUERY.key(), shard, 3, ids, scores, ids.length, Map.of(0, 10L + shard),
                shard == 0 ? QUERY : null);
    }

    @Test
    void emitsOnceEveryShardAnsweredAlsoAcrossARestore() throws Exception {
        OperatorSubtaskState state;
        try (var h = harness()) {
            h.open();
            h.processElement(shard(2, new String[] {"c", "z"}, new float[] {0.9f, 0.5f}), 1);
            h.processElement(shard(0, new String[] {"b"}, new float[] {0.9f}), 1);
            assertThat(h.extractOutputValues()).as("two of three shards answered").isEmpty();
            state = h.snapshot(1, 1);
        }
        try (var h = harness()) {
            h.initializeState(state);
            h.open();
            h.processElement(shard(1, new String[] {"a", "y"}, new float[] {0.7f, 0.9f}), 2);
            List<RetrievalAnswer> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            RetrievalAnswer a = out.get(0);
            // 0.9 three times: b, c, y by id; then 0.7 (a) and 0.5 (z) are cut by k = 3
            assertThat(a.docIds()).containsExactly("b", "c", "y");
            assertThat(a.scores()).containsExactly(0.9f, 0.9f, 0.9f);
            assertThat(a.query().key()).isEqualTo(QUERY.key());
            assertThat(a.documents()).isEqualTo(5);
            assertThat(a.shards()).extracting(RetrievalAnswer.Shard::shard).containsExactly(0, 1, 2);
            assertThat(a.shards().get(2).lastOffsets()).isEqualTo(Map.of(0, 12L));
            assertThat(h.numKeyedStateEntries()).as("the partial answers are cleared").isZero();

            // the enriched event the sink gets: ranks from 1, the index state per shard
            EnrichedEvent e = RetrievalOutput.event(a, io.inflow.gpu.retrieval.Metric.COSINE);
            assertThat(e.neighbours()).extracting(EnrichedEvent.Neighbour::docId, EnrichedEvent.Neighbour::rank)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("b", 1),
                            org.assertj.core.groups.Tuple.tuple("c", 2), org.assertj.core.groups.Tuple.tuple("y", 3));
            assertThat(e.index().metric()).isEqualTo("cosine");
            assertThat(e.index().documents()).isEqualTo(5);
            assertThat(e.index().shards()).hasSize(3);
            assertThat(e.id()).isEqualTo("e1");
        }
    }
}
