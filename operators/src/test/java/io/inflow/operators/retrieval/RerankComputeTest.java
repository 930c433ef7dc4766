package io.inflow.operators.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TokenSet;
import io.inflow.gpu.retrieval.TokenStorage;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.SourceRef;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The two-stage search (single-vector candidates, then MaxSim rerank) through the shards and the merge: answers equal
 * a brute force of the same two stages over the whole corpus (first stage: cosine in double, the best {@code N} with
 * ties to the lower id; second: MaxSim in double on the stored token values), whatever the number of shards, and
 * after a restore and a rescale; bad token vectors are dead-lettered.
 */
@Timeout(120)
class RerankComputeTest {

    private static final int DIM = 8;
    private static final int TOKEN_DIM = 6;
    private static final int K = 4;
    private static final int CANDIDATES = 10;

    private long offset;
    private final Map<String, float[]> vectors = new HashMap<>();
    private final Map<String, float[]> docTokens = new HashMap<>();

    private static RetrievalSettings settings(TokenStorage storage) {
        return new RetrievalSettings(DIM, K, Metric.COSINE, Storage.FLOAT32, 16, 4,
                new RetrievalSettings.Rerank(CANDIDATES, storage, TOKEN_DIM));
    }

    private RawRecord raw(String topic) {
        long o = offset++;
        return new RawRecord(topic, (int) (o % 2), o, 1, null, ("r" + o).getBytes());
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    /** {@code count} unit token vectors. */
    private static float[] tokens(Random rnd, int count) {
        float[] t = gaussian(rnd, count * TOKEN_DIM);
        for (int r = 0; r < count; r++) {
            double n = 0;
            for (int j = 0; j < TOKEN_DIM; j++) {
                n += t[r * TOKEN_DIM + j] * t[r * TOKEN_DIM + j];
            }
            for (int j = 0; j < TOKEN_DIM; j++) {
                t[r * TOKEN_DIM + j] /= (float) Math.sqrt(n);
            }
        }
        return t;
    }

    private DocUpdate upsert(String id, Random rnd) {
        float[] v = gaussian(rnd, DIM);
        float[] t = tokens(rnd, 2 + rnd.nextInt(5));
        vectors.put(id, v);
        docTokens.put(id, t);
        return DocUpdate.upsert(id, v, null, raw("corpus"), t);
    }

    private QueryRow query(Random rnd) {
        RawRecord r = raw("events.text");
        EnrichedEvent e = new EnrichedEvent("q" + r.offset(), "text", new SourceRef(r.topic(), r.partition(),
                r.offset(), r.timestamp()), new ModelRef("m", "1"), 3, false, null, null, null, List.of(), Map.of(), 1);
        return new QueryRow(gaussian(rnd, DIM), null, e, r, tokens(rnd, 1 + rnd.nextInt(4)));
    }

    /** Both stages by brute force in double over the live documents, on the stored token values of {@code storage}. */
    private List<String> expected(QueryRow q, TokenStorage storage, int stageOneK) {
        record Scored(String id, double score) {
        }
        List<Scored> first = new ArrayList<>();
        for (Map.Entry<String, float[]> e : new TreeMap<>(vectors).entrySet()) {
            double dot = 0;
            double qq = 0;
            double dd = 0;
            for (int i = 0; i < DIM; i++) {
                dot += (double) q.vector()[i] * e.getValue()[i];
                qq += (double) q.vector()[i] * q.vector()[i];
                dd += (double) e.getValue()[i] * e.getValue()[i];
            }
            first.add(new Scored(e.getKey(), (float) (dot / Math.sqrt(qq * dd))));
        }
        Comparator<Scored> order = Comparator.comparingDouble((Scored s) -> -s.score).thenComparing(Scored::id);
        first.sort(order);
        List<Scored> second = new ArrayList<>();
        for (Scored s : first.subList(0, Math.min(stageOneK, first.size()))) {
            float[] t = docTokens.get(s.id());
            TokenSet d = new TokenSet.Builder(storage, TOKEN_DIM)
                    .add(TokenSet.encode(storage, t, 0, t.length / TOKEN_DIM, TOKEN_DIM)).build();
            double sum = 0;
            for (int i = 0; i < q.tokens().length / TOKEN_DIM; i++) {
                double best = Double.NEGATIVE_INFINITY;
                for (int tok = 0; tok < d.totalTokens(); tok++) {
                    double dot = 0;
                    for (int j = 0; j < TOKEN_DIM; j++) {
                        dot += (double) q.tokens()[i * TOKEN_DIM + j] * d.value(tok, j);
                    }
                    best = Math.max(best, dot);
                }
                sum += best;
            }
            second.add(new Scored(s.id(), (float) sum));
        }
        second.sort(order);
        return second.stream().limit(K).map(Scored::id).toList();
    }

    @ParameterizedTest
    @EnumSource(TokenStorage.class)
    void twoStageAnswersEqualTheBruteForceAtEveryParallelism(TokenStorage storage) throws Exception {
        Random rnd = new Random(21);
        List<DocUpdate> docs = new ArrayList<>();
        for (int d = 0; d < 50; d++) {
            docs.add(upsert("doc-" + d, rnd));
        }
        List<QueryRow> queries = new ArrayList<>();
        for (int q = 0; q < 12; q++) {
            queries.add(query(rnd));
        }
        int reordered = 0;
        for (int parallelism : new int[] {1, 2, 3}) {
            List<ShardHarness> shards = ShardHarness.openAll(settings(storage), parallelism, null);
            try {
                List<RetrievalAnswer> answers = ShardHarness.run(shards, docs, queries, K, CANDIDATES);
                for (int i = 0; i < queries.size(); i++) {
                    List<String> got = List.of(answers.get(i).docIds());
                    assertThat(got).as("parallelism %d, query %d", parallelism, i)
                            .isEqualTo(expected(queries.get(i), storage, CANDIDATES));
                    if (!got.equals(expected(queries.get(i), storage, K))) {
                        reordered++;
                    }
                }
            } finally {
                ShardHarness.closeAll(shards);
            }
        }
        // negative control: the rerank of 10 candidates changed answers a rerank of the first 4 alone cannot give
        // (a merge that ignored the first-stage cut, or a rerank that did nothing, would fail one of the asserts)
        assertThat(reordered).isPositive();
    }

    @ParameterizedTest
    @EnumSource(value = TokenStorage.class, names = {"INT8", "BIT1"})
    void aRestoreAndARescaleKeepTheTokenVectors(TokenStorage storage) throws Exception {
        Random rnd = new Random(5);
        List<DocUpdate> docs = new ArrayList<>();
        for (int d = 0; d < 40; d++) {
            docs.add(upsert("doc-" + d, rnd));
        }
        List<QueryRow> queries = new ArrayList<>();
        for (int q = 0; q < 6; q++) {
            queries.add(query(rnd));
        }
        List<ShardHarness> two = ShardHarness.openAll(settings(storage), 2, null);
        List<OperatorSubtaskState> states = new ArrayList<>();
        List<RetrievalAnswer> before;
        try {
            before = ShardHarness.run(two, docs, queries, K, CANDIDATES);
            for (ShardHarness s : two) {
                states.add(s.snapshot(1));
            }
        } finally {
            ShardHarness.closeAll(two);
        }
        OperatorSubtaskState merged = AbstractStreamOperatorTestHarness.repackageState(
                states.toArray(new OperatorSubtaskState[0]));
        for (int parallelism : new int[] {1, 3}) {
            List<OperatorSubtaskState> restored = new ArrayList<>();
            for (int i = 0; i < parallelism; i++) {
                restored.add(AbstractStreamOperatorTestHarness.repartitionOperatorState(merged,
                        ShardHarness.MAX_PARALLELISM, 2, parallelism, i));
            }
            List<ShardHarness> shards = ShardHarness.openAll(settings(storage), parallelism, restored);
            try {
                List<RetrievalAnswer> again = ShardHarness.run(shards, List.of(), queries, K, CANDIDATES);
                for (int i = 0; i < queries.size(); i++) {
                    assertThat(again.get(i).docIds()).as("parallelism %d, query %d", parallelism, i)
                            .containsExactly(before.get(i).docIds());
                    assertThat(again.get(i).scores()).containsExactly(before.get(i).scores());
                }
            } finally {
                ShardHarness.closeAll(shards);
            }
        }
    }

    @Test
    void badTokenVectorsAreDeadLettered() throws Exception {
        Random rnd = new Random(9);
        List<ShardHarness> shards = ShardHarness.openAll(settings(TokenStorage.INT8), 1, null);
        try {
            float[] nan = tokens(rnd, 2);
            nan[3] = Float.NaN;
            List<DocUpdate> bad = List.of(
                    DocUpdate.upsert("no-tokens", gaussian(rnd, DIM), null, raw("corpus")),
                    DocUpdate.upsert("nan", gaussian(rnd, DIM), null, raw("corpus"), nan),
                    DocUpdate.upsert("ragged", gaussian(rnd, DIM), null, raw("corpus"), new float[TOKEN_DIM + 1]));
            QueryRow noTokens = new QueryRow(gaussian(rnd, DIM), null, query(rnd).event(), raw("events.text"));
            DocUpdate good = upsert("good", rnd);
            QueryRow q = query(rnd);
            List<DocUpdate> all = new ArrayList<>(bad);
            all.add(good);
            shards.get(0).query(noTokens);
            RetrievalAnswer a = ShardHarness.run(shards, all, List.of(q), K, CANDIDATES).get(0);
            assertThat(a.docIds()).containsExactly("good");
            List<DeadLetterRecord> letters = shards.get(0).deadLetters();
            assertThat(letters).hasSize(4).allSatisfy(l -> {
                assertThat(l.kind()).isEqualTo(ErrorKind.INVALID_FIELD);
                assertThat(l.stage()).isEqualTo(RetrievalCompute.STAGE);
            });
            assertThat(letters).extracting(DeadLetterRecord::message)
                    .anySatisfy(m -> assertThat(m).contains("no-tokens", "needs token vectors"))
                    .anySatisfy(m -> assertThat(m).contains("nan", "is NaN"))
                    .anySatisfy(m -> assertThat(m).contains("ragged", "not a multiple of the token dim 6"))
                    .anySatisfy(m -> assertThat(m).startsWith("query: MaxSim rerank needs token vectors"));
        } finally {
            ShardHarness.closeAll(shards);
        }
    }
}
