package io.inflow.operators.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.SourceRef;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The retrieval shards and their merge under Flink's harness: corpus updates routed by document id as keyBy routes
 * them, queries broadcast, partial answers merged. Answers equal a double-precision brute force over the live
 * documents (same ids in the same order, ties to the lower id), through upserts, deletes and re-upserts, an empty
 * corpus, k larger than the corpus and a query before any document; and they are the same after a restore from a
 * snapshot and after rescaling 2 shards to 1 and to 3.
 */
@Timeout(120)
class RetrievalComputeTest {

    private static final int DIM = 8;
    private static final int K = 5;
    /** Float32 storage, reference backend: scores are the double-precision ones rounded to float. */
    private static final float SCORE_EPS = 1e-6f;

    private static final RetrievalSettings SETTINGS =
            new RetrievalSettings(DIM, K, Metric.COSINE, Storage.FLOAT32, 16, 4);

    private long offset;

    /** The documents the test believes are live, to compute the expected answers. */
    private final Map<String, float[]> live = new HashMap<>();
    private final Map<String, String> tenants = new HashMap<>();

    private RawRecord raw(String topic) {
        long o = offset++;
        return new RawRecord(topic, (int) (o % 2), o, 1, null, ("r" + o).getBytes());
    }

    private DocUpdate upsert(String id, float[] v, String tenant) {
        live.put(id, v);
        if (tenant == null) {
            tenants.remove(id);
        } else {
            tenants.put(id, tenant);
        }
        return DocUpdate.upsert(id, v, tenant, raw("corpus"));
    }

    private DocUpdate delete(String id) {
        live.remove(id);
        tenants.remove(id);
        return DocUpdate.delete(id, raw("corpus"));
    }

    private QueryRow query(float[] v, String tenant) {
        RawRecord r = raw("events.text");
        EnrichedEvent e = new EnrichedEvent("q" + r.offset(), "text", new SourceRef(r.topic(), r.partition(),
                r.offset(), r.timestamp()), new ModelRef("m", "1"), 3, false, null, null, null, List.of(), Map.of(), 1);
        return new QueryRow(v, tenant, e, r);
    }

    private static float[] random(Random rnd) {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    /** The brute force: cosine in double over the live documents (matching the tenant), ties to the lower id. */
    private List<String> expected(float[] q, String tenant, int k) {
        record Scored(String id, double score) {
        }
        List<Scored> all = new ArrayList<>();
        for (Map.Entry<String, float[]> e : new TreeMap<>(live).entrySet()) {
            if (tenant != null && !tenant.equals(tenants.get(e.getKey()))) {
                continue;
            }
            double dot = 0;
            double qq = 0;
            double dd = 0;
            for (int i = 0; i < DIM; i++) {
                dot += (double) q[i] * e.getValue()[i];
                qq += (double) q[i] * q[i];
                dd += (double) e.getValue()[i] * e.getValue()[i];
            }
            all.add(new Scored(e.getKey(), (float) (dot / Math.sqrt(qq * dd))));
        }
        all.sort(Comparator.comparingDouble((Scored s) -> -s.score).thenComparing(Scored::id));
        return all.stream().limit(k).map(Scored::id).toList();
    }

    private void assertExact(List<RetrievalAnswer> answers, List<QueryRow> queries) {
        for (int i = 0; i < queries.size(); i++) {
            QueryRow q = queries.get(i);
            RetrievalAnswer a = answers.get(i);
            assertThat(List.of(a.docIds())).as("query %d", i).isEqualTo(expected(q.vector(), q.filterValue(), K));
            assertThat(a.documents()).isEqualTo(live.size());
            assertThat(a.query().key()).isEqualTo(q.key());
        }
    }

    private static List<ShardHarness> shards(int parallelism, List<OperatorSubtaskState> states) throws Exception {
        return shards(SETTINGS, parallelism, states);
    }

    private static List<ShardHarness> shards(RetrievalSettings settings, int parallelism,
            List<OperatorSubtaskState> states) throws Exception {
        return ShardHarness.openAll(settings, parallelism, states);
    }

    private static List<RetrievalAnswer> run(List<ShardHarness> shards, List<DocUpdate> updates,
            List<QueryRow> queries) throws Exception {
        return ShardHarness.run(shards, updates, queries, K, 0);
    }

    private static void closeAll(List<ShardHarness> shards) throws Exception {
        ShardHarness.closeAll(shards);
    }

    @Test
    void answersEqualTheBruteForceThroughUpsertsDeletesAndReupserts() throws Exception {
        Random rnd = new Random(7);
        List<ShardHarness> shards = shards(2, null);
        try {
            // a query before any document: every shard answers, with no hits
            QueryRow early = query(random(rnd), null);
            RetrievalAnswer none = run(shards, List.of(), List.of(early)).get(0);
            assertThat(none.docIds()).isEmpty();
            assertThat(none.documents()).isZero();

            List<DocUpdate> updates = new ArrayList<>();
            for (int d = 0; d < 40; d++) {
                updates.add(upsert("doc-" + d, random(rnd), d % 3 == 0 ? "acme" : "zeta"));
            }
            float[] twin = random(rnd); // two documents with the same vector: a tie, the lower id first
            updates.add(upsert("twin-b", twin, null));
            updates.add(upsert("twin-a", twin.clone(), null));
            List<QueryRow> queries = new ArrayList<>();
            for (int q = 0; q < 6; q++) {
                queries.add(query(random(rnd), null));
            }
            queries.add(query(twin, null));
            queries.add(query(random(rnd), "acme"));
            queries.add(query(random(rnd), "nobody")); // a tenant no shard knows: no hits
            List<RetrievalAnswer> answers = run(shards, updates, queries);
            assertExact(answers, queries);
            assertThat(answers.get(6).docIds()).startsWith("twin-a", "twin-b");
            assertThat(answers.get(6).scores()[0]).isCloseTo(1f, org.assertj.core.data.Offset.offset(SCORE_EPS));
            assertThat(answers.get(8).docIds()).isEmpty();
            // both shards held documents: the merge really combined two partial lists
            assertThat(answers.get(0).shards()).extracting(RetrievalAnswer.Shard::documents)
                    .allSatisfy(n -> assertThat(n).isPositive());

            // delete the best hit of query 0, move the second to the far side, re-upsert a deleted one
            String best = answers.get(0).docIds()[0];
            String second = answers.get(0).docIds()[1];
            float[] away = queries.get(0).vector().clone();
            for (int i = 0; i < DIM; i++) {
                away[i] = -away[i];
            }
            List<DocUpdate> changes = List.of(delete(best), upsert(second, away, null), delete("doc-1"),
                    upsert("doc-1", random(rnd), "zeta"), delete("never-indexed"));
            List<RetrievalAnswer> after = run(shards, changes, queries);
            assertExact(after, queries);
            assertThat(after.get(0).docIds()).doesNotContain(best, second);
        } finally {
            closeAll(shards);
        }
    }

    @Test
    void changesOvertakenByNewerOnesOfTheSameDocumentAreIgnored() throws Exception {
        Random rnd = new Random(5);
        List<ShardHarness> shards = shards(2, null);
        try {
            float[] v1 = random(rnd);
            float[] v2 = random(rnd);
            RawRecord r10 = new RawRecord("corpus", 0, 10, 1, null, null);
            RawRecord r11 = new RawRecord("corpus", 0, 11, 1, null, null);
            RawRecord r12 = new RawRecord("corpus", 0, 12, 1, null, null);
            RawRecord r13 = new RawRecord("corpus", 0, 13, 1, null, null);
            // "gone": upserted at 10, deleted at 11; the delete overtakes the upsert
            // "moved": v1 at 12, v2 at 13; v2 arrives first
            List<DocUpdate> arrivals = List.of(DocUpdate.delete("gone", r11),
                    DocUpdate.upsert("gone", v1, null, r10), DocUpdate.upsert("moved", v2, null, r13),
                    DocUpdate.upsert("moved", v1, null, r12));
            live.put("moved", v2);
            QueryRow q = query(v2, null);
            RetrievalAnswer a = run(shards, arrivals, List.of(q)).get(0);
            assertThat(a.docIds()).containsExactly("moved");
            assertThat(a.scores()[0]).isCloseTo(1f, org.assertj.core.data.Offset.offset(SCORE_EPS));
            assertThat(a.documents()).isEqualTo(1);
            // negative control: a newer change after the tombstone still applies
            DocUpdate back = DocUpdate.upsert("gone", v1, null, new RawRecord("corpus", 0, 14, 1, null, null));
            live.put("gone", v1);
            assertThat(run(shards, List.of(back), List.of(q)).get(0).docIds()).containsExactly("moved", "gone");
        } finally {
            closeAll(shards);
        }
    }

    @Test
    void kLargerThanTheCorpusReturnsEveryDocumentAndBadRecordsAreDeadLettered() throws Exception {
        Random rnd = new Random(3);
        List<ShardHarness> shards = shards(2, null);
        try {
            List<DocUpdate> docs = List.of(upsert("a", random(rnd), null), upsert("b", random(rnd), null));
            DocUpdate wrongDim = DocUpdate.upsert("bad-dim", new float[DIM + 1], null, raw("corpus"));
            float[] nan = random(rnd);
            nan[2] = Float.NaN;
            DocUpdate notFinite = DocUpdate.upsert("bad-nan", nan, null, raw("corpus"));
            List<DocUpdate> all = new ArrayList<>(docs);
            all.add(wrongDim);
            all.add(notFinite);
            QueryRow q = query(random(rnd), null);
            RetrievalAnswer a = run(shards, all, List.of(q)).get(0);
            assertThat(a.docIds()).containsExactlyElementsOf(expected(q.vector(), null, K)).hasSize(2);

            List<io.inflow.schemas.DeadLetterRecord> letters = new ArrayList<>();
            shards.forEach(s -> letters.addAll(s.deadLetters()));
            assertThat(letters).hasSize(2).allSatisfy(l -> {
                assertThat(l.kind()).isEqualTo(ErrorKind.INVALID_FIELD);
                assertThat(l.stage()).isEqualTo(RetrievalCompute.STAGE);
            });
            assertThat(letters).extracting(l -> l.message())
                    .anySatisfy(m -> assertThat(m).contains("bad-dim", "9 values, the index holds 8"))
                    .anySatisfy(m -> assertThat(m).contains("bad-nan", "embedding[2] is NaN"));
        } finally {
            closeAll(shards);
        }
    }

    /** Every storage: the state holds the stored form, so the restored index answers bit for bit the same. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Storage.class)
    void aRestoreAndARescaleReturnTheSameAnswers(Storage storage) throws Exception {
        RetrievalSettings settings = new RetrievalSettings(DIM, K, Metric.COSINE, storage, 16, 4);
        Random rnd = new Random(11);
        List<DocUpdate> docs = new ArrayList<>();
        for (int d = 0; d < 60; d++) {
            docs.add(upsert("doc-" + d, random(rnd), null));
        }
        docs.add(delete("doc-7"));
        List<QueryRow> queries = new ArrayList<>();
        for (int q = 0; q < 8; q++) {
            queries.add(query(random(rnd), null));
        }
        List<ShardHarness> two = shards(settings, 2, null);
        List<OperatorSubtaskState> states = new ArrayList<>();
        List<RetrievalAnswer> before;
        Map<Integer, Long> offsetsBefore = new TreeMap<>();
        try {
            before = run(two, docs, queries);
            if (storage == Storage.FLOAT32) {
                assertExact(before, queries); // the quantized storages are checked against the brute force in gpu
            }
            for (RetrievalAnswer.Shard s : before.get(0).shards()) {
                s.lastOffsets().forEach((p, o) -> offsetsBefore.merge(p, o, Math::max));
            }
            for (ShardHarness s : two) {
                states.add(s.snapshot(1));
            }
        } finally {
            closeAll(two);
        }
        OperatorSubtaskState merged = AbstractStreamOperatorTestHarness.repackageState(states.toArray(
                new OperatorSubtaskState[0]));
        for (int parallelism : new int[] {2, 1, 3}) {
            List<OperatorSubtaskState> restored = new ArrayList<>();
            for (int i = 0; i < parallelism; i++) {
                restored.add(AbstractStreamOperatorTestHarness.repartitionOperatorState(merged,
                        ShardHarness.MAX_PARALLELISM, 2, parallelism, i));
            }
            List<ShardHarness> shards = shards(settings, parallelism, restored);
            try {
                List<RetrievalAnswer> again = run(shards, List.of(), queries);
                for (int i = 0; i < queries.size(); i++) {
                    assertThat(again.get(i).docIds()).as("parallelism %d, query %d", parallelism, i)
                            .containsExactly(before.get(i).docIds());
                    assertThat(again.get(i).scores()).containsExactly(before.get(i).scores());
                    assertThat(again.get(i).documents()).isEqualTo(59);
                    assertThat(again.get(i).shards()).hasSize(parallelism);
                }
                // every shard knows how far the corpus had been applied before the snapshot
                for (RetrievalAnswer.Shard s : again.get(0).shards()) {
                    assertThat(s.lastOffsets()).isEqualTo(offsetsBefore);
                }
            } finally {
                closeAll(shards);
            }
        }
    }
}
