package io.inflow.gpu.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.retrieval.RetrievalOps;
import io.inflow.gpu.retrieval.TokenQueries;
import io.inflow.gpu.retrieval.TokenSet;
import io.inflow.gpu.retrieval.TokenStorage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link RetrievalOps#maxSim} (ColBERT late interaction), written once and run on every backend (a
 * subclass per backend). Every score is compared with a test-local brute force in double precision on the stored
 * (dequantized, {@link TokenSet#value}) document values, so the quantized storages are checked as tightly as float32:
 * the kernels must compute MaxSim of what is stored, the quantization error itself is measured separately
 * ({@link #quantizedRankingsStayCloseToFloat32}).
 *
 * <p>Cases: every storage at dims 1, 3, 8, 37, 64, 100, 130 and 384 (multiples and non-multiples of 8, 64, the vector
 * lanes and a warp), query and document lengths from 1 to 150 tokens, single-token queries and documents, many pairs
 * sharing one document, repeated pairs, pair order and subsets, no pairs, bad arguments, a hand-computed case, the
 * FAISS-style ranking check of int8 and 1-bit storage against float32, and a negative control: the checker rejects
 * kernels that return the first tokens' dot, the mean instead of the max, or ignore the per-token scale.
 */
public abstract class MaxSimContractTest {
    /** Seed of every random case; printed in failure messages so a failure can be replayed. */
    protected static final long SEED = 20251203L;
    /** The unit roundoff of float32, 2^-24. */
    protected static final double U = 0x1p-24;
    /**
     * Extra units of roundoff on top of {@code dim + queryTokens} in {@link #tolerance}: one for the per-token scale's
     * multiplication, one for the oracle's dequantized int8 value ({@code scale * q} rounded to float, so the oracle's
     * value and the kernel's factorised {@code scale * sum q_j i8_j} differ by one rounding per product), two spare.
     */
    protected static final int SLACK_UNITS = 4;
    /** Rounding the finished score to float: 2^-24 of its size, rounded up (the reference's only error). */
    protected static final double FLOAT_ROUNDING = 6e-8;

    /**
     * FAISS-style check of int8 against float32 MaxSim rankings ({@link #quantizedRankingsStayCloseToFloat32}: 100
     * candidates per query, clustered unit vectors): the largest share of the float32 top-10 ranks whose document
     * changes. int8 moves each value by at most half a step ({@code max|x| / 254}, about 1e-3 for unit tokens of dim
     * 128), a dot by about {@code step / sqrt(12)} rms, a 16-token score by about 2e-3 rms: only near-ties among
     * candidates of the same relevance swap. Measured 5% (recall@10 1.0) on every CPU backend; 15% leaves room for
     * another backend's float rounding, not for a lossy int8 path.
     */
    static final double INT8_MAX_RANK_SWAP_SHARE = 0.15;
    /** Floor of int8 recall@10 (float32 top-10 documents found in the int8 top-10); measured 1.0. */
    static final double INT8_MIN_RECALL_AT_10 = 0.9;
    /**
     * Floor of 1-bit recall@10. A sign code with a mean-magnitude scale keeps a unit vector's direction only roughly
     * (the cosine between a Gaussian vector and its sign code is {@code sqrt(2 / pi) ~ 0.8}), so candidates of equal
     * relevance (documents sharing the same topics with the query) reorder: the rank-swap share is high (measured
     * 83%) and not bounded here, but most of the float32 top-10 stays in the 1-bit top-10 (measured 0.73).
     */
    static final double BIT1_MIN_RECALL_AT_10 = 0.6;
    /**
     * Floor of the share of the float32 top-10 found among the 1-bit top-30 (1-bit as a first stage that keeps 30 of
     * 100 candidates for an exact rerank): the quantization error reorders near-ties, not relevance levels (measured
     * 1.0).
     */
    static final double BIT1_MIN_RECALL_10_AT_30 = 0.95;

    protected Backend backend;
    /** {@code backend.retrieval()}: the family under test. */
    protected RetrievalOps ops;

    protected abstract Backend create();

    /**
     * This backend's score tolerance for a pair: float32 rounding of {@code dim}-term dot products (each within
     * {@code dim u |q_i| |d_t|} of the exact value: sequential FMA chains or any other summation order of the same
     * terms), the exact max over document tokens (off by at most the largest dot error), and the float sum of the
     * query's row maxima ({@code tokens u sum|max|}); so {@code (dim + tokens + SLACK_UNITS) u B} with {@code B = sum_i
     * |q_i| max_t |d_t|} (Cauchy-Schwarz bounds every dot by {@code |q_i| |d_t|}). About 1e-3 for 32 unit tokens of
     * dim 384 on a score of up to 32; any wrong pairing of tokens moves a score by far more.
     */
    protected double tolerance(int dim, int queryTokens, double bound) {
        return (dim + queryTokens + SLACK_UNITS) * U * bound;
    }

    @BeforeEach
    void open() {
        backend = create();
        ops = backend.retrieval();
    }

    @AfterEach
    void close() {
        if (backend != null) {
            backend.close();
        }
    }

    // ---- the main matrix ----------------------------------------------------------------------------

    @Test
    void everyStorageAndDimMatchesTheOracle() {
        Random rnd = new Random(SEED);
        for (int dim : new int[] {1, 3, 8, 37, 64, 100, 130, 384}) {
            for (TokenStorage storage : TokenStorage.values()) {
                TokenQueries queries = queries(rnd, dim, new int[] {1, 7, 32, 40, 16}, true);
                TokenSet docs = documents(rnd, storage, dim, new int[] {1, 150, 128, 17, 33, 64, 2, 100, 9, 31});
                int[][] pairs = randomPairs(rnd, 60, queries.count(), docs.count());
                check(queries, docs, pairs[0], pairs[1], storage + " dim " + dim);
            }
        }
    }

    @Test
    void singleTokenQueriesAndDocuments() {
        Random rnd = new Random(SEED + 1);
        for (int dim : new int[] {1, 100, 128}) {
            for (TokenStorage storage : TokenStorage.values()) {
                TokenQueries queries = queries(rnd, dim, new int[] {1, 1, 5}, false);
                TokenSet docs = documents(rnd, storage, dim, new int[] {1, 1, 6});
                int[] pq = {0, 0, 1, 2, 0, 2};
                int[] pd = {0, 2, 1, 0, 1, 2};
                float[] got = check(queries, docs, pq, pd, storage + " dim " + dim + " single tokens");
                // one token each side: the score is that one dot product
                double dot = 0;
                for (int j = 0; j < dim; j++) {
                    dot += (double) queries.tokens()[j] * docs.value(0, j);
                }
                assertThat((double) got[0]).as(storage + " dim " + dim + ": 1 x 1 token is the dot")
                        .isCloseTo(dot, Offset.offset(tolerance(dim, 1, bound(queries, docs, 0, 0))
                                + FLOAT_ROUNDING * Math.abs(dot) + Double.MIN_NORMAL));
            }
        }
    }

    @Test
    void aHandComputedCaseNeedsTheMaxOverTokensOfEveryQueryToken() {
        // query tokens e1, e2, (e1 + e2) / 2; document tokens e2, -e1, 2 e1, 0.1 (e1 + e2): maxima 2, 1, 1 -> 4
        float[] q = {1, 0, 0, 0, 1, 0, 0.5f, 0.5f, 0};
        float[] d = {0, 1, 0, -1, 0, 0, 2, 0, 0, 0.1f, 0.1f, 0};
        TokenQueries queries = new TokenQueries(q, new int[] {0, 3}, 3);
        TokenSet docs = new TokenSet.Builder(TokenStorage.FLOAT32, 3)
                .add(TokenSet.encode(TokenStorage.FLOAT32, d, 0, 4, 3))
                .add(TokenSet.encode(TokenStorage.FLOAT32, d, 3, 1, 3)).build();   // -e1 alone: maxima -1, 0, -0.5
        float[] got = ops.maxSim(queries, docs, new int[] {0, 0}, new int[] {0, 1});
        assertThat(got).containsExactly(4f, -1.5f);
    }

    @Test
    void manyPairsSharingADocumentAndRepeatedPairs() {
        Random rnd = new Random(SEED + 2);
        for (TokenStorage storage : TokenStorage.values()) {
            int dim = 96;
            int[] lengths = new int[40];
            for (int i = 0; i < lengths.length; i++) {
                lengths[i] = 1 + rnd.nextInt(40);
            }
            TokenQueries queries = queries(rnd, dim, lengths, true);
            TokenSet docs = documents(rnd, storage, dim, new int[] {20, 77, 5, 128});
            int pairs = 300;
            int[] pq = new int[pairs];
            int[] pd = new int[pairs];
            for (int p = 0; p < pairs; p++) {
                pq[p] = p % queries.count();
                pd[p] = p % 10 == 9 ? rnd.nextInt(docs.count()) : 1;   // 90% on document 1
            }
            float[] got = check(queries, docs, pq, pd, storage + " shared document");
            for (int p = 0; p < pairs; p++) {
                for (int o = p + 1; o < pairs; o++) {
                    if (pq[p] == pq[o] && pd[p] == pd[o]) {
                        assertThat(Float.floatToIntBits(got[o])).as(storage + " repeated pair " + p + " / " + o)
                                .isEqualTo(Float.floatToIntBits(got[p]));
                    }
                }
            }
        }
    }

    @Test
    void aPairsScoreDoesNotDependOnTheOtherPairsOrTheirOrder() {
        Random rnd = new Random(SEED + 3);
        for (TokenStorage storage : TokenStorage.values()) {
            TokenQueries queries = queries(rnd, 100, new int[] {32, 3, 32, 1, 20, 32}, true);
            TokenSet docs = documents(rnd, storage, 100, new int[] {128, 50, 1, 128, 64, 90, 128, 7});
            int[][] pairs = randomPairs(rnd, 200, queries.count(), docs.count());
            float[] all = check(queries, docs, pairs[0], pairs[1], storage + " in order");
            Integer[] perm = IntStream.range(0, 200).boxed().toArray(Integer[]::new);
            java.util.Collections.shuffle(Arrays.asList(perm), rnd);
            int[] pq = new int[200];
            int[] pd = new int[200];
            for (int i = 0; i < 200; i++) {
                pq[i] = pairs[0][perm[i]];
                pd[i] = pairs[1][perm[i]];
            }
            float[] shuffled = ops.maxSim(queries, docs, pq, pd);
            for (int i = 0; i < 200; i++) {
                assertThat(Float.floatToIntBits(shuffled[i])).as(storage + " shuffled pair " + i)
                        .isEqualTo(Float.floatToIntBits(all[perm[i]]));
            }
            for (int p : new int[] {0, 57, 199}) {
                float[] alone = ops.maxSim(queries, docs, new int[] {pairs[0][p]}, new int[] {pairs[1][p]});
                assertThat(Float.floatToIntBits(alone[0])).as(storage + " pair " + p + " alone")
                        .isEqualTo(Float.floatToIntBits(all[p]));
            }
        }
    }

    @Test
    void noPairsGiveNoScores() {
        Random rnd = new Random(SEED + 4);
        TokenQueries queries = queries(rnd, 8, new int[] {2}, false);
        TokenSet docs = documents(rnd, TokenStorage.BIT1, 8, new int[] {3});
        assertThat(ops.maxSim(queries, docs, new int[0], new int[0])).isEmpty();
    }

    @Test
    void badArgumentsFailWithAClearMessage() {
        Random rnd = new Random(SEED + 5);
        TokenQueries queries = queries(rnd, 8, new int[] {2, 3}, false);
        TokenSet docs = documents(rnd, TokenStorage.INT8, 8, new int[] {3, 4, 5});
        TokenSet otherDim = documents(rnd, TokenStorage.INT8, 9, new int[] {3});
        assertThatThrownBy(() -> ops.maxSim(queries, otherDim, new int[] {0}, new int[] {0}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxSim: query tokens of dim 8 against document tokens of dim 9");
        assertThatThrownBy(() -> ops.maxSim(queries, docs, new int[] {0, 1}, new int[] {0}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxSim: 2 pair queries but 1 pair documents");
        assertThatThrownBy(() -> ops.maxSim(queries, docs, new int[] {0, 2}, new int[] {0, 0}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxSim: pair 1 names query 2 of 2");
        assertThatThrownBy(() -> ops.maxSim(queries, docs, new int[] {-1}, new int[] {0}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxSim: pair 0 names query -1 of 2");
        assertThatThrownBy(() -> ops.maxSim(queries, docs, new int[] {0, 1, 1}, new int[] {0, 2, 3}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxSim: pair 2 names document 3 of 3");
        assertThatThrownBy(() -> ops.maxSim(queries, docs, new int[] {1}, new int[] {-4}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxSim: pair 0 names document -4 of 3");
    }

    // ---- quantization against float32 ---------------------------------------------------------------

    /**
     * FAISS-style: the same clustered unit token vectors stored as float32, int8 and 1-bit; per query, 100 candidate
     * documents ranked by each storage's MaxSim; the int8 and 1-bit rankings are compared with float32's (share of
     * top-10 ranks that change, recall of the float32 top-10 in the top 10 and top 30). Topics: 24 random unit
     * centroids; a document mixes 3 topics (tokens = centroid + noise, normalised); a query's 16 tokens come from two
     * topics of one candidate plus noise, so the candidates range from clearly relevant to unrelated.
     */
    @Test
    void quantizedRankingsStayCloseToFloat32() {
        Random rnd = new Random(SEED + 6);
        int dim = 128;
        int topics = 24;
        int docCount = 300;
        int docTokens = 32;
        int queryCount = 24;
        int queryTokens = 16;
        int candidates = 100;
        float[][] centroid = new float[topics][];
        for (int c = 0; c < topics; c++) {
            centroid[c] = unit(gaussianVector(rnd, dim, 1f));
        }
        int[][] docTopics = new int[docCount][3];
        float[] docValues = new float[docCount * docTokens * dim];
        for (int d = 0; d < docCount; d++) {
            for (int k = 0; k < 3; k++) {
                docTopics[d][k] = rnd.nextInt(topics);
            }
            for (int t = 0; t < docTokens; t++) {
                float[] v = near(rnd, centroid[docTopics[d][t % 3]], 0.9f);
                System.arraycopy(v, 0, docValues, (d * docTokens + t) * dim, dim);
            }
        }
        float[] queryValues = new float[queryCount * queryTokens * dim];
        int[] qOff = new int[queryCount + 1];
        int[] pq = new int[queryCount * candidates];
        int[] pd = new int[queryCount * candidates];
        for (int q = 0; q < queryCount; q++) {
            qOff[q + 1] = qOff[q] + queryTokens;
            List<Integer> pool = new ArrayList<>(IntStream.range(0, docCount).boxed().toList());
            java.util.Collections.shuffle(pool, rnd);
            int seed = pool.get(0);
            for (int t = 0; t < queryTokens; t++) {
                float[] v = near(rnd, centroid[docTopics[seed][t % 2]], 1.0f);
                System.arraycopy(v, 0, queryValues, (q * queryTokens + t) * dim, dim);
            }
            for (int c = 0; c < candidates; c++) {
                pq[q * candidates + c] = q;
                pd[q * candidates + c] = pool.get(c);
            }
        }
        TokenQueries queries = new TokenQueries(queryValues, qOff, dim);
        float[][] scores = new float[TokenStorage.values().length][];
        for (TokenStorage storage : TokenStorage.values()) {
            TokenSet.Builder b = new TokenSet.Builder(storage, dim);
            for (int d = 0; d < docCount; d++) {
                b.add(TokenSet.encode(storage, docValues, d * docTokens * dim, docTokens, dim));
            }
            scores[storage.ordinal()] = ops.maxSim(queries, b.build(), pq, pd);
        }
        for (TokenStorage storage : new TokenStorage[] {TokenStorage.INT8, TokenStorage.BIT1}) {
            int swaps = 0;
            int found10 = 0;
            int found30 = 0;
            for (int q = 0; q < queryCount; q++) {
                int[] truth = ranking(scores[TokenStorage.FLOAT32.ordinal()], q * candidates, candidates);
                int[] got = ranking(scores[storage.ordinal()], q * candidates, candidates);
                List<Integer> top10 = Arrays.stream(got, 0, 10).boxed().toList();
                List<Integer> top30 = Arrays.stream(got, 0, 30).boxed().toList();
                for (int i = 0; i < 10; i++) {
                    swaps += truth[i] != got[i] ? 1 : 0;
                    found10 += top10.contains(truth[i]) ? 1 : 0;
                    found30 += top30.contains(truth[i]) ? 1 : 0;
                }
            }
            double n = queryCount * 10.0;
            System.out.printf("%s: %s MaxSim vs float32 over %d candidates: top-10 rank swaps %.3f, recall@10 %.3f,"
                    + " recall 10@30 %.3f%n", backend.name(), storage, candidates, swaps / n, found10 / n, found30 / n);
            String at = storage + " (seed " + SEED + ", " + backend.name() + ")";
            if (storage == TokenStorage.INT8) {
                assertThat(swaps / n).as(at + " share of top-10 rank swaps").isLessThanOrEqualTo(INT8_MAX_RANK_SWAP_SHARE);
                assertThat(found10 / n).as(at + " recall@10").isGreaterThanOrEqualTo(INT8_MIN_RECALL_AT_10);
            } else {
                assertThat(found10 / n).as(at + " recall@10").isGreaterThanOrEqualTo(BIT1_MIN_RECALL_AT_10);
                assertThat(found30 / n).as(at + " recall 10@30").isGreaterThanOrEqualTo(BIT1_MIN_RECALL_10_AT_30);
            }
        }
    }

    /** Candidate indices {@code 0 .. n-1} of {@code scores[from ..]} best first (ties by index). */
    private static int[] ranking(float[] scores, int from, int n) {
        return IntStream.range(0, n).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -scores[from + i]).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).toArray();
    }

    // ---- the checker is not vacuous -----------------------------------------------------------------

    /** Kernels that get the pairing of tokens wrong, or skip the scale, are rejected by {@link #assertMatches}. */
    @Test
    void negativeControlTheCheckerRejectsWrongKernels() {
        Random rnd = new Random(SEED + 7);
        for (TokenStorage storage : TokenStorage.values()) {
            TokenQueries queries = queries(rnd, 100, new int[] {32, 8, 1}, true);
            TokenSet docs = documents(rnd, storage, 100, new int[] {128, 1, 40});
            int[] pq = {0, 1, 2, 0, 1};
            int[] pd = {0, 0, 2, 2, 2};
            assertMatches(queries, docs, pq, pd, ops.maxSim(queries, docs, pq, pd), storage + " the backend itself");
            for (Wrong wrong : Wrong.values()) {
                if (wrong == Wrong.NO_SCALE && storage == TokenStorage.FLOAT32) {
                    continue;   // float32 has no scale to forget
                }
                float[] bad = new float[pq.length];
                for (int p = 0; p < pq.length; p++) {
                    bad[p] = wrong.score(queries, docs, pq[p], pd[p]);
                }
                assertThatThrownBy(() -> assertMatches(queries, docs, pq, pd, bad, storage + " " + wrong))
                        .as(storage + " " + wrong).isInstanceOf(AssertionError.class);
            }
        }
    }

    /** Wrong MaxSims the checker must reject. */
    private enum Wrong {
        /** Only the first query token against the first document token. */
        SINGLE_TOKEN_DOT,
        /** The mean over document tokens instead of the max. */
        MEAN_NOT_MAX,
        /** The sum over document tokens of the max over query tokens (the roles swapped). */
        ROLES_SWAPPED,
        /** The int8 / 1-bit dot without the per-token scale. */
        NO_SCALE;

        float score(TokenQueries queries, TokenSet docs, int q, int d) {
            int dim = queries.dim();
            int[] qo = queries.offsets();
            double[][] dots = new double[qo[q + 1] - qo[q]][docs.tokenCount(d)];
            for (int i = 0; i < dots.length; i++) {
                for (int t = 0; t < dots[i].length; t++) {
                    int g = docs.offset(d) + t;
                    float scale = docs.scales() == null ? 1f : docs.scales()[g];
                    for (int j = 0; j < dim; j++) {
                        double v = this == NO_SCALE ? docs.value(g, j) / scale : docs.value(g, j);
                        dots[i][t] += queries.tokens()[(qo[q] + i) * dim + j] * v;
                    }
                }
            }
            double sum = 0;
            switch (this) {
                case SINGLE_TOKEN_DOT -> sum = dots[0][0];
                case MEAN_NOT_MAX, NO_SCALE -> {
                    for (double[] row : dots) {
                        sum += this == NO_SCALE ? Arrays.stream(row).max().orElseThrow()
                                : Arrays.stream(row).average().orElseThrow();
                    }
                }
                case ROLES_SWAPPED -> {
                    for (int t = 0; t < dots[0].length; t++) {
                        double m = Double.NEGATIVE_INFINITY;
                        for (double[] row : dots) {
                            m = Math.max(m, row[t]);
                        }
                        sum += m;
                    }
                }
            }
            return (float) sum;
        }
    }

    // ---- the oracle and the checker ------------------------------------------------------------------

    /** MaxSim of one pair in double on the stored values (the test's own brute force). */
    protected static double oracle(TokenQueries queries, TokenSet docs, int q, int d) {
        int dim = queries.dim();
        int[] qo = queries.offsets();
        double sum = 0;
        for (int i = qo[q]; i < qo[q + 1]; i++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int t = docs.offset(d); t < docs.offset(d + 1); t++) {
                double dot = 0;
                for (int j = 0; j < dim; j++) {
                    dot += (double) queries.tokens()[i * dim + j] * docs.value(t, j);
                }
                best = Math.max(best, dot);
            }
            sum += best;
        }
        return sum;
    }

    /** {@code sum_i |q_i| max_t |d_t|}: bounds the size of every partial result of the pair. */
    protected static double bound(TokenQueries queries, TokenSet docs, int q, int d) {
        int dim = queries.dim();
        int[] qo = queries.offsets();
        double dMax = 0;
        for (int t = docs.offset(d); t < docs.offset(d + 1); t++) {
            double sq = 0;
            for (int j = 0; j < dim; j++) {
                sq += (double) docs.value(t, j) * docs.value(t, j);
            }
            dMax = Math.max(dMax, Math.sqrt(sq));
        }
        double sum = 0;
        for (int i = qo[q]; i < qo[q + 1]; i++) {
            double sq = 0;
            for (int j = 0; j < dim; j++) {
                sq += (double) queries.tokens()[i * dim + j] * queries.tokens()[i * dim + j];
            }
            sum += Math.sqrt(sq);
        }
        return sum * dMax;
    }

    /** Runs maxSim on the backend and checks every pair against the oracle. */
    protected float[] check(TokenQueries queries, TokenSet docs, int[] pq, int[] pd, String what) {
        float[] got = ops.maxSim(queries, docs, pq, pd);
        assertMatches(queries, docs, pq, pd, got, what);
        return got;
    }

    /** One score per pair, each within {@link #tolerance} (plus the final float rounding) of the oracle. */
    protected void assertMatches(TokenQueries queries, TokenSet docs, int[] pq, int[] pd, float[] got, String what) {
        assertThat(got).as(what + ": one score per pair").hasSize(pq.length);
        for (int p = 0; p < pq.length; p++) {
            double want = oracle(queries, docs, pq[p], pd[p]);
            double tol = tolerance(queries.dim(), queries.tokenCount(pq[p]), bound(queries, docs, pq[p], pd[p]))
                    + FLOAT_ROUNDING * Math.abs(want) + Double.MIN_NORMAL;
            assertThat((double) got[p]).as(what + ", pair " + p + " (query " + pq[p] + ", document " + pd[p]
                    + ", seed " + SEED + ", " + backend.name() + ")").isCloseTo(want, Offset.offset(tol));
        }
    }

    // ---- data ---------------------------------------------------------------------------------------

    protected static float[] gaussianVector(Random rnd, int dim, float sigma) {
        float[] v = new float[dim];
        for (int j = 0; j < dim; j++) {
            v[j] = (float) (sigma * rnd.nextGaussian());
        }
        return v;
    }

    protected static float[] unit(float[] v) {
        double sq = 0;
        for (float x : v) {
            sq += (double) x * x;
        }
        float inv = sq == 0 ? 0f : (float) (1 / Math.sqrt(sq));
        for (int j = 0; j < v.length; j++) {
            v[j] *= inv;
        }
        return v;
    }

    /** A unit vector near {@code centre}: centre plus Gaussian noise of total length about {@code noise}. */
    protected static float[] near(Random rnd, float[] centre, float noise) {
        float[] v = gaussianVector(rnd, centre.length, (float) (noise / Math.sqrt(centre.length)));
        for (int j = 0; j < v.length; j++) {
            v[j] += centre[j];
        }
        return unit(v);
    }

    /**
     * Queries of the given token counts: unit tokens (ColBERT normalises them), and when {@code mixedNorms} every
     * third token scaled by 0.3 to 3 so that the tolerance's per-token bound is exercised.
     */
    protected static TokenQueries queries(Random rnd, int dim, int[] tokens, boolean mixedNorms) {
        int[] offsets = new int[tokens.length + 1];
        for (int q = 0; q < tokens.length; q++) {
            offsets[q + 1] = offsets[q] + tokens[q];
        }
        float[] values = new float[offsets[tokens.length] * dim];
        for (int i = 0; i < offsets[tokens.length]; i++) {
            float[] v = unit(gaussianVector(rnd, dim, 1f));
            float s = mixedNorms && i % 3 == 2 ? (float) (0.3 + 2.7 * rnd.nextDouble()) : 1f;
            for (int j = 0; j < dim; j++) {
                values[i * dim + j] = v[j] * s;
            }
        }
        return new TokenQueries(values, offsets, dim);
    }

    /** Documents of the given token counts in {@code storage}: Gaussian tokens scaled to norms 0.5 to 2. */
    protected static TokenSet documents(Random rnd, TokenStorage storage, int dim, int[] tokens) {
        TokenSet.Builder b = new TokenSet.Builder(storage, dim);
        for (int n : tokens) {
            float[] values = new float[n * dim];
            for (int t = 0; t < n; t++) {
                float[] v = unit(gaussianVector(rnd, dim, 1f));
                float s = (float) (0.5 + 1.5 * rnd.nextDouble());
                for (int j = 0; j < dim; j++) {
                    values[t * dim + j] = v[j] * s;
                }
            }
            b.add(TokenSet.encode(storage, values, 0, n, dim));
        }
        return b.build();
    }

    /** {@code n} random pairs {query, document}, including every query and every document at least once. */
    protected static int[][] randomPairs(Random rnd, int n, int queries, int documents) {
        int[] pq = new int[n];
        int[] pd = new int[n];
        for (int p = 0; p < n; p++) {
            pq[p] = p < queries ? p : rnd.nextInt(queries);
            pd[p] = p < documents ? p : rnd.nextInt(documents);
        }
        return new int[][] {pq, pd};
    }
}
