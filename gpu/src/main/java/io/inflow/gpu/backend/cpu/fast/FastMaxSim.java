package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.retrieval.RetrievalOps;
import io.inflow.gpu.retrieval.TokenQueries;
import io.inflow.gpu.retrieval.TokenSet;
import io.inflow.gpu.retrieval.TokenStorage;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * MaxSim (ColBERT late interaction) on the fast CPU backend, the CPU twin of {@code maxsim.cu}: per pair, the sum over
 * the query's tokens of the largest inner product with any of the document's stored tokens. Same scores as
 * {@code RetrievalReference.maxSim} within float32 rounding.
 *
 * <p>Layout of the work:
 * <ul>
 *   <li><b>Pairs grouped by document.</b> A counting sort puts the pairs of each document together; contiguous runs
 *       of documents of about equal work (tokens x tokens x dim) are tasks of the backend's {@link ParallelRunner}.</li>
 *   <li><b>Document widened and transposed once per group.</b> Its tokens become a float32 tile
 *       {@code [dim][tokens]} (token index fastest, padded to whole vector pairs): float32 copied, int8 converted
 *       (exact), 1-bit signs as {@code +1f / -1f} (exact, only the {@code dim} used bits are read). The per-token scale
 *       multiplies the finished dot: {@code scale_t * sum_j q_j * stored_j}. A 1-bit dot is therefore
 *       {@code scale_t * (sum over set bits of q_j - sum over clear bits of q_j)}, the same number as
 *       {@code scale_t * (2 * sum over set bits - sum_j q_j)} without the cancellation of the latter.</li>
 *   <li><b>Outer-product micro-kernel.</b> 4 query tokens x 2 vectors of document tokens: per value {@code j} two
 *       vector loads of the tile, four broadcast query values, eight FMAs; lane {@code l} of an accumulator is one dot
 *       product, so no horizontal sum is needed. Each vector strip of the tile (dim x 2 vectors) stays in L1 while
 *       every query token of every pair of the document passes over it. Padding lanes are masked to {@code -inf}
 *       before the lane-wise max.</li>
 * </ul>
 *
 * <p>Determinism: every dot product is the same sequential chain {@code acc = fma(q_j, d_j, acc)}, {@code j = 0 ..
 * dim - 1}, whatever its position in a tile, task or thread; maxima are exact; a pair's row maxima are summed in
 * token order. A pair's score therefore does not depend on the thread count, the other pairs or their order (it is
 * bit for bit what {@code maxsim.cu} computes, which uses the same chain and order).
 *
 * <pre>{@code
 * float[] scores = new FastMaxSim(runner).maxSim(queries, documents, pairQuery, pairDoc);
 * }</pre>
 */
public final class FastMaxSim {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = S.length();
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, S.vectorShape());
    /** Query tokens per micro-kernel call (their four broadcasts and eight accumulators fit the registers). */
    static final int ROWS = 4;
    /** Document tokens per micro-kernel call: two vectors. */
    static final int COLS = 2 * LANES;
    /** Tasks per thread: a few, so that documents of uneven size balance through the runner's dynamic hand-out. */
    static final int TASKS_PER_THREAD = 4;

    private final ParallelRunner runner;

    public FastMaxSim(ParallelRunner runner) {
        this.runner = runner;
    }

    /** {@link RetrievalOps#maxSim}: checks the arguments, then scores every pair. */
    public float[] maxSim(TokenQueries queries, TokenSet documents, int[] pairQuery, int[] pairDoc) {
        RetrievalOps.checkMaxSim(queries, documents, pairQuery, pairDoc);
        int pairs = pairQuery.length;
        float[] out = new float[pairs];
        if (pairs == 0) {
            return out;
        }
        int[] order = io.inflow.gpu.retrieval.TokenSet.pairsByDocument(pairDoc, documents.count());
        // groups: runs of equal document in `order`
        int[] groupStart = new int[pairs + 1];
        int groups = 0;
        for (int i = 0; i < pairs; i++) {
            if (i == 0 || pairDoc[order[i]] != pairDoc[order[i - 1]]) {
                groupStart[groups++] = i;
            }
        }
        groupStart[groups] = pairs;
        long[] workBefore = new long[groups + 1];     // cumulative FMAs, to cut tasks of equal work
        for (int g = 0; g < groups; g++) {
            long docTokens = documents.tokenCount(pairDoc[order[groupStart[g]]]);
            long work = 0;
            for (int i = groupStart[g]; i < groupStart[g + 1]; i++) {
                work += queries.tokenCount(pairQuery[order[i]]) * docTokens * queries.dim();
            }
            workBefore[g + 1] = workBefore[g] + work;
        }
        long total = workBefore[groups];
        int tasks = (int) Math.min(groups, (long) runner.threads() * TASKS_PER_THREAD);
        int[] taskStart = new int[tasks + 1];
        for (int t = 1; t < tasks; t++) {
            long target = total * t / tasks;
            int g = taskStart[t - 1];
            while (g < groups && workBefore[g] < target) {
                g++;
            }
            taskStart[t] = g;
        }
        taskStart[tasks] = groups;
        int finalGroups = groups;
        runner.parallelFor(tasks, total, t -> {
            Worker w = new Worker(queries, documents, pairQuery, out);
            for (int g = taskStart[t]; g < taskStart[t + 1] && g < finalGroups; g++) {
                w.group(pairDoc[order[groupStart[g]]], order, groupStart[g], groupStart[g + 1]);
            }
        });
        return out;
    }

    /** One task's state: the widened tile of the current document and the row maxima of its pairs. Not thread-safe. */
    private static final class Worker {
        private final float[] qs;
        private final int[] qOff;
        private final int dim;
        private final TokenSet docs;
        private final int[] pairQuery;
        private final float[] out;
        private float[] tile = new float[0];
        private float[] scales = new float[0];
        private float[] rowMax = new float[0];
        /** 1-bit documents: their sign words transposed to 32-bit words {@code [ceil(dim / 32)][width]}. */
        private int[] wordsT = new int[0];

        Worker(TokenQueries queries, TokenSet docs, int[] pairQuery, float[] out) {
            this.qs = queries.tokens();
            this.qOff = queries.offsets();
            this.dim = queries.dim();
            this.docs = docs;
            this.pairQuery = pairQuery;
            this.out = out;
        }

        /** Scores pairs {@code order[from, to)}, all of document {@code d}. */
        void group(int d, int[] order, int from, int to) {
            int t0 = docs.offset(d);
            int nd = docs.tokenCount(d);
            int width = (nd + COLS - 1) / COLS * COLS;
            widen(t0, nd, width);
            int rows = 0;
            for (int i = from; i < to; i++) {
                int q = pairQuery[order[i]];
                rows += qOff[q + 1] - qOff[q];
            }
            if (rowMax.length < rows) {
                rowMax = new float[rows];
            }
            java.util.Arrays.fill(rowMax, 0, rows, Float.NEGATIVE_INFINITY);
            for (int c = 0; c < width; c += COLS) {
                VectorMask<Float> valid0 = S.indexInRange(c, nd);
                VectorMask<Float> valid1 = S.indexInRange(c + LANES, nd);
                FloatVector sc0 = FloatVector.fromArray(S, scales, c);
                FloatVector sc1 = FloatVector.fromArray(S, scales, c + LANES);
                int row = 0;
                for (int i = from; i < to; i++) {
                    int q = pairQuery[order[i]];
                    int n = qOff[q + 1] - qOff[q];
                    for (int r = 0; r < n; r += ROWS) {
                        block(qOff[q] + r, n - r, width, c, valid0, valid1, sc0, sc1, row + r);
                    }
                    row += n;
                }
            }
            int row = 0;
            for (int i = from; i < to; i++) {
                int q = pairQuery[order[i]];
                int n = qOff[q + 1] - qOff[q];
                float sum = 0f;
                for (int r = 0; r < n; r++) {
                    sum += rowMax[row + r];
                }
                out[order[i]] = sum;
                row += n;
            }
        }

        /**
         * Query rows {@code [first, first + min(4, left))} against tile columns {@code [c, c + 2 LANES)}: the scaled
         * dots' maxima into {@code rowMax[at ..]}. Missing rows repeat the last one (computed, not stored).
         */
        private void block(int first, int left, int width, int c, VectorMask<Float> valid0, VectorMask<Float> valid1,
                           FloatVector sc0, FloatVector sc1, int at) {
            int b0 = first * dim;
            int b1 = (first + Math.min(1, left - 1)) * dim;
            int b2 = (first + Math.min(2, left - 1)) * dim;
            int b3 = (first + Math.min(3, left - 1)) * dim;
            FloatVector a00 = FloatVector.zero(S);
            FloatVector a01 = a00;
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            FloatVector a20 = a00;
            FloatVector a21 = a00;
            FloatVector a30 = a00;
            FloatVector a31 = a00;
            for (int j = 0, at0 = c; j < dim; j++, at0 += width) {
                FloatVector d0 = FloatVector.fromArray(S, tile, at0);
                FloatVector d1 = FloatVector.fromArray(S, tile, at0 + LANES);
                FloatVector q0 = FloatVector.broadcast(S, qs[b0 + j]);
                a00 = q0.fma(d0, a00);
                a01 = q0.fma(d1, a01);
                FloatVector q1 = FloatVector.broadcast(S, qs[b1 + j]);
                a10 = q1.fma(d0, a10);
                a11 = q1.fma(d1, a11);
                FloatVector q2 = FloatVector.broadcast(S, qs[b2 + j]);
                a20 = q2.fma(d0, a20);
                a21 = q2.fma(d1, a21);
                FloatVector q3 = FloatVector.broadcast(S, qs[b3 + j]);
                a30 = q3.fma(d0, a30);
                a31 = q3.fma(d1, a31);
            }
            keepMax(at, a00, a01, sc0, sc1, valid0, valid1);
            if (left > 1) {
                keepMax(at + 1, a10, a11, sc0, sc1, valid0, valid1);
            }
            if (left > 2) {
                keepMax(at + 2, a20, a21, sc0, sc1, valid0, valid1);
            }
            if (left > 3) {
                keepMax(at + 3, a30, a31, sc0, sc1, valid0, valid1);
            }
        }

        /** Scales two vectors of dots, masks padding to -inf, and folds their maximum into {@code rowMax[at]}. */
        private void keepMax(int at, FloatVector a0, FloatVector a1, FloatVector sc0, FloatVector sc1,
                             VectorMask<Float> valid0, VectorMask<Float> valid1) {
            FloatVector s0 = a0.mul(sc0).blend(Float.NEGATIVE_INFINITY, valid0.not());
            FloatVector s1 = a1.mul(sc1).blend(Float.NEGATIVE_INFINITY, valid1.not());
            // max is exact and order-free, so the lane reduction's shape cannot change the result
            float m = s0.max(s1).reduceLanes(VectorOperators.MAX);
            if (m > rowMax[at]) {
                rowMax[at] = m;
            }
        }

        /**
         * Tokens {@code [t0, t0 + nd)} as the tile {@code [dim][width]} and their scales (1 for float32; 0 padded).
         * float32 and int8: value by value, {@code j} outer so the tile is written in order while the document's rows
         * (read with a stride) stay in L1. 1-bit: the sign words are first transposed to 32-bit words
         * {@code [dim / 32][width]}, then a vector of {@code LANES} tokens' bit {@code j} becomes {@code 2 b - 1}.
         */
        private void widen(int t0, int nd, int width) {
            if (tile.length < dim * width) {
                tile = new float[dim * width];
            }
            if (scales.length < width) {
                scales = new float[width];
            }
            TokenStorage storage = docs.storage();
            switch (storage) {
                case FLOAT32 -> {
                    float[] f = docs.float32Values();
                    for (int j = 0; j < dim; j++) {
                        int row = j * width;
                        for (int t = 0, at = t0 * dim + j; t < nd; t++, at += dim) {
                            tile[row + t] = f[at];
                        }
                    }
                }
                case INT8 -> {
                    byte[] b = docs.int8Values();
                    for (int j = 0; j < dim; j++) {
                        int row = j * width;
                        for (int t = 0, at = t0 * dim + j; t < nd; t++, at += dim) {
                            tile[row + t] = b[at];
                        }
                    }
                }
                case BIT1 -> widenBits(t0, nd, width);
            }
            for (int t = 0; t < width; t++) {
                scales[t] = t >= nd ? 0f : storage == TokenStorage.FLOAT32 ? 1f : docs.scales()[t0 + t];
            }
            for (int j = 0; j < dim; j++) {
                java.util.Arrays.fill(tile, j * width + nd, j * width + width, 0f);
            }
        }

        private void widenBits(int t0, int nd, int width) {
            long[] words = docs.bitWords();
            int perToken = docs.wordsPerToken();
            int ints = (dim + 31) / 32;
            if (wordsT.length < ints * width) {
                wordsT = new int[ints * width];
            }
            for (int t = 0; t < width; t++) {
                for (int w = 0; w < ints; w++) {
                    long word = t < nd ? words[(t0 + t) * perToken + (w >>> 1)] : 0L;
                    wordsT[w * width + t] = (int) (word >>> ((w & 1) * 32));
                }
            }
            for (int j = 0; j < dim; j++) {
                int row = j * width;
                int src = (j >>> 5) * width;
                int shift = j & 31;
                for (int c = 0; c < width; c += LANES) {
                    IntVector bits = IntVector.fromArray(IS, wordsT, src + c).lanewise(VectorOperators.LSHR, shift)
                            .and(1);
                    ((FloatVector) bits.convert(VectorOperators.I2F, 0)).fma(2f, -1f).intoArray(tile, row + c);
                }
            }
        }
    }
}
