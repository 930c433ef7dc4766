package io.inflow.gpu.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.RetrievalOps;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of the {@link Family#RETRIEVAL} family ({@link RetrievalOps#search}), written once and run on every
 * backend that supports it (a subclass per backend). Every result is compared with a test-local brute force in double
 * precision on the stored (dequantized) values, fully sorted by the hit order (score descending, tie key, chunk, row
 * ascending), the FAISS way:
 * <ul>
 *   <li>same number of hits; each score within the backend's named tolerance of the oracle's score at that rank;</li>
 *   <li>same ids in the same order, except that two rows whose oracle scores are closer than twice the tolerance may
 *       change places (float32 accumulation cannot order them); such near-tie swaps are counted and reported;</li>
 *   <li>exact ties (rows with bit-identical stored vectors, hence equal oracle scores) are ordered by tie key, then
 *       chunk, then row, with no allowance: every backend must give identical vectors identical scores.</li>
 * </ul>
 * Cases: every metric x storage, dims 3, 100 and 384 (not multiples of the vector lanes or a warp), several chunks with
 * partly filled capacity, batches of 1 and 64, k = 1, 10, 1000, 2048 and k larger than the corpus, an empty corpus,
 * deleted rows, filter codes, duplicated vectors for ties, and int8 / float16 recall against the float32 ground truth.
 * A negative control shows that the checker rejects a kernel that returns the first k live rows.
 */
public abstract class RetrievalContractTest {
    /** Seed of every random corpus; printed in failure messages so a failure can be replayed. */
    protected static final long SEED = 20251202L;

    /**
     * Score tolerance of a float32-accumulating backend, relative to the largest possible size of the parts of the
     * score computed in float ({@code |q| |d|max} for the inner product, 1 for cosine, {@code 2 |q| |d|max +
     * |d|max^2} for L2: the dot product and the stored norm; {@code |q|^2} is computed in double). Float32 sums of n
     * products err by at most {@code n u sum|q_j d_j| <= n u |q| |d|} with u = 2^-24: 2.3e-5 for n = 384 (the
     * largest dim here); lane-parallel sums err far less in practice. 3e-5 covers that bound plus the final rounding.
     */
    protected static final double FLOAT32_REL_TOLERANCE = 3e-5;
    /** Rounding a finished score to float: 2^-24 of its size, rounded up; added to every backend's tolerance. */
    protected static final double FLOAT_ROUNDING = 6e-8;
    /** float16 values widen to float32 exactly, so the arithmetic and its error are float32's. */
    protected static final double FLOAT16_REL_TOLERANCE = FLOAT32_REL_TOLERANCE;
    /**
     * int8: the kernels sum {@code q_j * i8_j} and multiply by the row's scale once, while the oracle sums
     * {@code q_j * (scale * i8_j)} with each dequantized value rounded to float (as {@link VectorChunk#value} gives
     * it): one more relative rounding u per product, 6e-8 on top of float32's bound, rounded up to 4e-5.
     */
    protected static final double INT8_REL_TOLERANCE = 4e-5;
    /**
     * FAISS-style quantization check: share of the float32 top-10 ranks whose id changes when the same vectors are
     * stored as float16 (half precision keeps 11 bits: scores move by about 5e-4 of |q||d| / sqrt(dim), far below the
     * gaps between the top-10 of 4,000 random vectors; measured 0 to 2%).
     */
    static final double FLOAT16_MAX_RANK_SWAP_SHARE = 0.05;
    /** The same for int8 (scale max|x| / 127: about 0.4% of |x|max per value; measured about 10 to 15%). */
    static final double INT8_MAX_RANK_SWAP_SHARE = 0.30;
    /** And a floor for int8 recall@10 (ids of the float32 top-10 found anywhere in the int8 top-10). */
    static final double INT8_MIN_RECALL_AT_10 = 0.85;

    protected Backend backend;
    /** {@code backend.retrieval()}: the family under test. */
    protected RetrievalOps ops;

    protected abstract Backend create();

    /** This backend's score tolerance for {@code storage}, relative as described at {@link #FLOAT32_REL_TOLERANCE}. */
    protected double relTolerance(Storage storage) {
        return switch (storage) {
            case FLOAT32 -> FLOAT32_REL_TOLERANCE;
            case FLOAT16 -> FLOAT16_REL_TOLERANCE;
            case INT8 -> INT8_REL_TOLERANCE;
        };
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

    @Test
    void theBackendSaysItSupportsTheFamily() {
        assertThat(backend.supports(Family.RETRIEVAL)).as(backend.name()).isTrue();
        backend.require(Family.RETRIEVAL);
    }

    // ---- the main matrix ----------------------------------------------------------------------------

    @Test
    void everyMetricAndStorageMatchesTheOracleAtEveryK() {
        Random rnd = new Random(SEED);
        for (int dim : new int[] {3, 100, 384}) {
            for (Storage storage : Storage.values()) {
                // three chunks, partly filled, with a sprinkle of duplicates and deletions
                List<VectorChunk> chunks = corpus(rnd, storage, dim, new int[] {1000, 700, 900}, new int[] {1000, 613,
                        431}, 0.02, 0.02, 0);
                for (Metric metric : Metric.values()) {
                    String what = storage + " " + metric + " dim " + dim;
                    for (int k : new int[] {1, 10, 1000, 2048}) {
                        check(chunks, request(rnd, 1, dim, k, metric, null), what + " batch 1 k " + k);
                    }
                    if (dim != 3) {
                        for (int k : new int[] {10, 1000}) {
                            check(chunks, request(rnd, 64, dim, k, metric, null), what + " batch 64 k " + k);
                        }
                    } else {
                        // dim 3: few distinct directions, many near-ties; still every k
                        check(chunks, request(rnd, 64, dim, 2048, metric, null), what + " batch 64 k 2048");
                    }
                }
            }
        }
    }

    @Test
    void kLargerThanTheCorpusReturnsEveryLiveRow() {
        Random rnd = new Random(SEED + 1);
        for (Storage storage : Storage.values()) {
            List<VectorChunk> chunks = corpus(rnd, storage, 100, new int[] {40, 40}, new int[] {33, 17}, 0.1, 0.1, 0);
            int live = chunks.stream().mapToInt(VectorChunk::liveCount).sum();
            for (Metric metric : Metric.values()) {
                TopK top = check(chunks, request(rnd, 5, 100, 2048, metric, null), storage + " " + metric);
                for (int q = 0; q < 5; q++) {
                    assertThat(top.hits(q)).as("hits of query " + q).isEqualTo(live);
                }
            }
        }
    }

    @Test
    void anEmptyCorpusGivesNoHits() {
        Random rnd = new Random(SEED + 2);
        VectorChunk unused = new VectorChunk(Storage.FLOAT32, 7, 16);
        VectorChunk allDeleted = corpus(rnd, Storage.INT8, 7, new int[] {16}, new int[] {9}, 0, 0, 0).get(0);
        for (int r = 0; r < allDeleted.count(); r++) {
            allDeleted.delete(r);
        }
        for (List<VectorChunk> chunks : List.of(List.<VectorChunk>of(), List.of(unused), List.of(unused, allDeleted))) {
            for (int count : new int[] {0, 1, 64}) {
                TopK top = ops.search(chunks, request(rnd, count, 7, 10, Metric.L2, null));
                assertThat(top.queries()).isEqualTo(count);
                for (int q = 0; q < count; q++) {
                    assertThat(top.hits(q)).as(chunks.size() + " chunk(s), query " + q).isZero();
                }
            }
        }
    }

    @Test
    void deletedRowsAreNeverReturned() {
        Random rnd = new Random(SEED + 3);
        for (Storage storage : Storage.values()) {
            List<VectorChunk> chunks = corpus(rnd, storage, 100, new int[] {300, 300}, new int[] {300, 250}, 0, 0, 0);
            // queries equal to stored rows: their own row is the best hit until it is deleted
            float[] qs = new float[8 * 100];
            for (int q = 0; q < 8; q++) {
                VectorChunk c = chunks.get(q % 2);
                System.arraycopy(c.row(q * 7), 0, qs, q * 100, 100);
            }
            SearchRequest r = new SearchRequest(qs, 8, 100, 50, Metric.COSINE, null);
            TopK before = check(chunks, r, storage + " before deleting");
            for (int q = 0; q < 8; q++) {
                chunks.get(before.chunk(q, 0)).delete(before.row(q, 0));
                chunks.get(before.chunk(q, 1)).delete(before.row(q, 1));
            }
            for (int i = 0; i < 200; i += 3) {
                chunks.get(1).delete(i);
            }
            TopK after = check(chunks, r, storage + " after deleting");
            for (int q = 0; q < 8; q++) {
                for (int i = 0; i < after.hits(q); i++) {
                    assertThat(chunks.get(after.chunk(q, i)).isLive(after.row(q, i)))
                            .as(storage + " query " + q + " hit " + i + " is live").isTrue();
                }
            }
        }
    }

    @Test
    void filterCodesRestrictEachQueryToItsRows() {
        Random rnd = new Random(SEED + 4);
        for (Storage storage : Storage.values()) {
            List<VectorChunk> chunks = corpus(rnd, storage, 100, new int[] {500, 500}, new int[] {500, 377}, 0.02,
                    0.02, 4);
            int[] codes = new int[64];
            for (int q = 0; q < 64; q++) {
                codes[q] = q % 6 == 5 ? VectorChunk.NO_FILTER_CODE : q % 6;   // codes 4: no row has it
            }
            for (Metric metric : Metric.values()) {
                SearchRequest r = request(rnd, 64, 100, 100, metric, codes);
                TopK top = check(chunks, r, storage + " " + metric + " filtered");
                for (int q = 0; q < 64; q++) {
                    if (codes[q] == 4) {
                        assertThat(top.hits(q)).as("query with an unused code").isZero();
                    }
                    for (int i = 0; i < top.hits(q); i++) {
                        int code = chunks.get(top.chunk(q, i)).filterCodes()[top.row(q, i)];
                        if (codes[q] != VectorChunk.NO_FILTER_CODE) {
                            assertThat(code).as("query " + q + " hit " + i).isEqualTo(codes[q]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void exactTiesAreBrokenByTieKeyThenChunkThenRow() {
        Random rnd = new Random(SEED + 5);
        int dim = 100;
        for (Storage storage : Storage.values()) {
            for (Metric metric : Metric.values()) {
                List<VectorChunk> chunks = corpus(rnd, storage, dim, new int[] {200, 200, 200}, new int[] {150, 150,
                        150}, 0, 0, 0);
                float[] target = gaussian(rnd, dim);
                // the same vector 9 times over three chunks; tie keys 5, 3, 3, 9, 1, 3, 7, 1, 2 (equal keys: chunk, row)
                long[] keys = {5, 3, 3, 9, 1, 3, 7, 1, 2};
                int[][] at = new int[keys.length][];
                for (int i = 0; i < keys.length; i++) {
                    int ci = (i * 2) % 3;
                    int row = 10 + i * 13;
                    chunks.get(ci).set(row, target, 0, keys[i], VectorChunk.NO_FILTER_CODE);
                    at[i] = new int[] {ci, row};
                }
                float[] q = target.clone();
                SearchRequest r = new SearchRequest(q, 1, dim, 20, metric, null);
                TopK top = check(chunks, r, storage + " " + metric + " ties");
                List<int[]> expected = new ArrayList<>(List.of(at));
                expected.sort(Comparator.<int[]>comparingLong(p -> chunks.get(p[0]).tieKeys()[p[1]])
                        .thenComparingInt(p -> p[0]).thenComparingInt(p -> p[1]));
                for (int i = 0; i < keys.length; i++) {
                    assertThat(new int[] {top.chunk(0, i), top.row(0, i)}).as(storage + " " + metric + " tie rank " + i)
                            .containsExactly(expected.get(i));
                    assertThat(Float.floatToIntBits(top.score(0, i)))
                            .as("identical vectors score bit-identically").isEqualTo(Float.floatToIntBits(top.score(0,
                                    0)));
                }
            }
        }
    }

    @Test
    void quantizedStorageKeepsTheFloat32TopTen() {
        Random rnd = new Random(SEED + 6);
        int dim = 384;
        int rows = 4000;
        float[][] data = new float[rows][];
        for (int i = 0; i < rows; i++) {
            data[i] = gaussian(rnd, dim);
        }
        SearchRequest r = request(rnd, 64, dim, 10, Metric.INNER_PRODUCT, null);
        TopK truth = ops.search(List.of(chunkOf(Storage.FLOAT32, data)), r);
        for (Storage storage : new Storage[] {Storage.FLOAT16, Storage.INT8}) {
            TopK got = ops.search(List.of(chunkOf(storage, data)), r);
            int swaps = 0;
            int found = 0;
            for (int q = 0; q < 64; q++) {
                List<Integer> gotIds = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    gotIds.add(got.row(q, i));
                }
                for (int i = 0; i < 10; i++) {
                    swaps += truth.row(q, i) != got.row(q, i) ? 1 : 0;
                    found += gotIds.contains(truth.row(q, i)) ? 1 : 0;
                }
            }
            double swapShare = swaps / 640.0;
            double recall = found / 640.0;
            System.out.printf("%s: %s vs float32 top-10: rank swaps %.3f, recall %.3f%n", backend.name(), storage,
                    swapShare, recall);
            assertThat(swapShare).as(storage + " share of rank swaps in the top 10 (seed " + SEED + ")")
                    .isLessThanOrEqualTo(storage == Storage.FLOAT16 ? FLOAT16_MAX_RANK_SWAP_SHARE
                            : INT8_MAX_RANK_SWAP_SHARE);
            if (storage == Storage.INT8) {
                assertThat(recall).as("int8 recall@10").isGreaterThanOrEqualTo(INT8_MIN_RECALL_AT_10);
            }
        }
    }

    @Test
    void aChunkOfAnotherDimIsRefused() {
        VectorChunk c = new VectorChunk(Storage.FLOAT32, 8, 4);
        assertThatThrownBy(() -> ops.search(List.of(c), new SearchRequest(new float[4], 1, 4, 1, Metric.L2, null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dim 8");
    }

    /** The checker is not vacuous: a kernel that returns the first k live rows (or breaks ties backwards) fails it. */
    @Test
    void negativeControlTheCheckerRejectsAWrongKernel() {
        Random rnd = new Random(SEED + 7);
        List<VectorChunk> chunks = corpus(rnd, Storage.FLOAT32, 100, new int[] {300}, new int[] {300}, 0, 0.1, 0);
        float[] target = gaussian(rnd, 100);
        for (int i = 0; i < 4; i++) {
            chunks.get(0).set(100 + i, target, 0, 4 - i, VectorChunk.NO_FILTER_CODE);   // an exact 4-way tie
        }
        float[] qs = new float[4 * 100];
        for (int q = 0; q < 4; q++) {
            System.arraycopy(target, 0, qs, q * 100, 100);
        }
        SearchRequest r = new SearchRequest(qs, 4, 100, 10, Metric.INNER_PRODUCT, null);
        assertMatches(chunks, r, ops.search(chunks, r), "the backend itself");
        Search firstK = (cs, req) -> {
            TopK out = new TopK(req.count(), req.k());
            for (int q = 0; q < req.count(); q++) {
                int i = 0;
                for (int row = 0; row < cs.get(0).count() && i < req.k(); row++) {
                    if (cs.get(0).isLive(row)) {
                        out.set(q, i++, 0, row, 0f);
                    }
                }
            }
            return out;
        };
        assertThatThrownBy(() -> assertMatches(chunks, r, firstK.search(chunks, r), "first k live rows"))
                .isInstanceOf(AssertionError.class);
        Search tiesBackwards = (cs, req) -> {
            TopK right = ops.search(cs, req);
            TopK out = new TopK(req.count(), req.k());
            for (int q = 0; q < req.count(); q++) {
                int n = right.hits(q);
                for (int i = 0; i < n; i++) {
                    int j = i;
                    // swap each exact tie pair: same score, next rank
                    if (i + 1 < n && right.score(q, i) == right.score(q, i + 1)) {
                        j = i + 1;
                    } else if (i > 0 && right.score(q, i) == right.score(q, i - 1)) {
                        j = i - 1;
                    }
                    out.set(q, i, right.chunk(q, j), right.row(q, j), right.score(q, j));
                }
            }
            return out;
        };
        assertThatThrownBy(() -> assertMatches(chunks, r, tiesBackwards.search(chunks, r), "ties backwards"))
                .isInstanceOf(AssertionError.class);
    }

    /** A search-only stand-in for a wrong kernel ({@link RetrievalOps} also has maxSim, so it takes no lambda). */
    private interface Search {
        TopK search(List<VectorChunk> chunks, SearchRequest request);
    }

    // ---- the oracle and the checker ------------------------------------------------------------------

    /** A hit of the oracle: the double score before rounding, and where it came from. */
    protected record Hit(double score, long tieKey, int chunk, int row) {
    }

    private static final Comparator<Hit> ORDER = Comparator.comparingDouble((Hit h) -> -h.score)
            .thenComparingLong(Hit::tieKey).thenComparingInt(Hit::chunk).thenComparingInt(Hit::row);

    /** Every live, matching row of query {@code q}, scored in double on its dequantized values, sorted. */
    protected static List<Hit> oracle(List<VectorChunk> chunks, SearchRequest r, int q) {
        int dim = r.dim();
        double qSq = 0;
        for (int j = 0; j < dim; j++) {
            qSq += (double) r.queries()[q * dim + j] * r.queries()[q * dim + j];
        }
        List<Hit> hits = new ArrayList<>();
        for (int ci = 0; ci < chunks.size(); ci++) {
            VectorChunk c = chunks.get(ci);
            for (int row = 0; row < c.count(); row++) {
                if (!c.isLive(row) || (r.filterCode(q) >= 0 && c.filterCodes()[row] != r.filterCode(q))) {
                    continue;
                }
                hits.add(new Hit(score(c, row, r, q, Math.sqrt(qSq)), c.tieKeys()[row], ci, row));
            }
        }
        hits.sort(ORDER);
        return hits;
    }

    private static double score(VectorChunk c, int row, SearchRequest r, int q, double qNorm) {
        double dot = 0;
        double dSq = 0;
        for (int j = 0; j < r.dim(); j++) {
            double v = c.value(row, j);
            dot += r.queries()[q * r.dim() + j] * v;
            dSq += v * v;
        }
        return r.metric().score(dot, qNorm, Math.sqrt(dSq));
    }

    /** Runs the search on the backend and checks it against the oracle. */
    protected TopK check(List<VectorChunk> chunks, SearchRequest r, String what) {
        TopK top = ops.search(chunks, r);
        assertMatches(chunks, r, top, what);
        return top;
    }

    /** The checks listed in the class comment; {@code what} names the case in messages. */
    protected void assertMatches(List<VectorChunk> chunks, SearchRequest r, TopK top, String what) {
        assertThat(top.queries()).as(what + ": queries").isEqualTo(r.count());
        Storage storage = chunks.isEmpty() ? Storage.FLOAT32 : chunks.get(0).storage();
        double maxNorm = 0;
        for (VectorChunk c : chunks) {
            for (int row = 0; row < c.count(); row++) {
                maxNorm = Math.max(maxNorm, c.norms()[row]);
            }
        }
        int nearTieSwaps = 0;
        for (int q = 0; q < r.count(); q++) {
            List<Hit> want = oracle(chunks, r, q);
            String at = what + ", query " + q + " (seed " + SEED + ", " + backend.name() + ")";
            int n = Math.min(r.k(), want.size());
            assertThat(top.hits(q)).as(at + ": hits").isEqualTo(n);
            double qNorm = 0;
            for (int j = 0; j < r.dim(); j++) {
                qNorm += (double) r.queries()[q * r.dim() + j] * r.queries()[q * r.dim() + j];
            }
            qNorm = Math.sqrt(qNorm);
            double scale = switch (r.metric()) {
                case INNER_PRODUCT -> qNorm * maxNorm;
                case COSINE -> 1;
                case L2 -> 2 * qNorm * maxNorm + maxNorm * maxNorm;   // |q|^2 is exact enough in double
            };
            double tol = relTolerance(storage) * scale + Double.MIN_NORMAL;
            java.util.Set<Long> seen = new java.util.HashSet<>();
            Hit previous = null;
            for (int i = 0; i < n; i++) {
                int ci = top.chunk(q, i);
                int row = top.row(q, i);
                assertThat(ci).as(at + " hit " + i + ": chunk").isBetween(0, chunks.size() - 1);
                VectorChunk c = chunks.get(ci);
                assertThat(c.isLive(row)).as(at + " hit " + i + ": row " + row + " is live").isTrue();
                assertThat(r.filterCode(q) < 0 || c.filterCodes()[row] == r.filterCode(q))
                        .as(at + " hit " + i + ": filter code").isTrue();
                assertThat(seen.add(((long) ci << 32) | row)).as(at + " hit " + i + ": returned twice").isTrue();
                Hit expected = want.get(i);
                // plus the rounding of the finished score to float (the reference's only error)
                double hitTol = tol + FLOAT_ROUNDING * Math.abs(expected.score());
                assertThat((double) top.score(q, i)).as(at + " hit " + i + ": score")
                        .isCloseTo(expected.score(), org.assertj.core.data.Offset.offset(hitTol));
                Hit got = new Hit(score(c, row, r, q, qNorm), c.tieKeys()[row], ci, row);
                if (got.chunk() != expected.chunk() || got.row() != expected.row()) {
                    nearTieSwaps++;
                    assertThat(Math.abs(got.score() - expected.score()))
                            .as(at + " rank " + i + ": got chunk " + ci + " row " + row + " (oracle score "
                                    + got.score() + "), expected chunk " + expected.chunk() + " row " + expected.row()
                                    + " (" + expected.score() + "): not a near-tie").isLessThanOrEqualTo(2 * hitTol);
                }
                if (previous != null && previous.score() == got.score()) {
                    assertThat(ORDER.compare(previous, got)).as(at + " rank " + i + ": exact tie order (tie key, "
                            + "chunk, row)").isNegative();
                }
                previous = got;
            }
        }
        if (nearTieSwaps > 0) {
            System.out.printf("%s: %s: %d near-tie swap(s)%n", backend.name(), what, nearTieSwaps);
        }
    }

    // ---- data ---------------------------------------------------------------------------------------

    protected static float[] gaussian(Random rnd, int dim) {
        float[] v = new float[dim];
        for (int j = 0; j < dim; j++) {
            v[j] = (float) rnd.nextGaussian();
        }
        return v;
    }

    protected static SearchRequest request(Random rnd, int count, int dim, int k, Metric metric, int[] codes) {
        float[] qs = new float[count * dim];
        for (int i = 0; i < qs.length; i++) {
            qs[i] = (float) rnd.nextGaussian();
        }
        if (count > 1) {
            java.util.Arrays.fill(qs, 0, dim, 0f);   // a zero query: cosine 0, L2 -|d|^2
        }
        return new SearchRequest(qs, count, dim, k, metric, codes);
    }

    /**
     * Chunks of the given capacities holding {@code fill[i]} random rows each (norms between 0.5 and 2 so the metrics
     * disagree), a share {@code dupShare} of them copies of an earlier row (exact ties), a share {@code deleteShare}
     * deleted, one zero vector per chunk, tie keys drawn from a small range (so equal keys occur), and filter codes
     * {@code 0 .. codes-1} (or none when {@code codes == 0}).
     */
    protected static List<VectorChunk> corpus(Random rnd, Storage storage, int dim, int[] capacity, int[] fill,
                                              double dupShare, double deleteShare, int codes) {
        List<VectorChunk> chunks = new ArrayList<>();
        List<float[]> written = new ArrayList<>();
        for (int ci = 0; ci < capacity.length; ci++) {
            VectorChunk c = new VectorChunk(storage, dim, capacity[ci]);
            for (int row = 0; row < fill[ci]; row++) {
                float[] v;
                if (!written.isEmpty() && rnd.nextDouble() < dupShare) {
                    v = written.get(rnd.nextInt(written.size()));
                } else if (row == 5) {
                    v = new float[dim];
                } else {
                    v = gaussian(rnd, dim);
                    float s = (float) ((0.5 + 1.5 * rnd.nextDouble()) / Math.sqrt(dim));
                    for (int j = 0; j < dim; j++) {
                        v[j] *= s;
                    }
                }
                written.add(v);
                c.append(v, 0, rnd.nextInt(Math.max(1, fill[ci] / 2)),
                        codes == 0 ? VectorChunk.NO_FILTER_CODE : rnd.nextInt(codes));
            }
            for (int row = 0; row < fill[ci]; row++) {
                if (rnd.nextDouble() < deleteShare) {
                    c.delete(row);
                }
            }
            chunks.add(c);
        }
        return chunks;
    }

    protected static VectorChunk chunkOf(Storage storage, float[][] rows) {
        VectorChunk c = new VectorChunk(storage, rows[0].length, rows.length);
        for (int i = 0; i < rows.length; i++) {
            c.append(rows[i], 0, i, VectorChunk.NO_FILTER_CODE);
        }
        return c;
    }
}
