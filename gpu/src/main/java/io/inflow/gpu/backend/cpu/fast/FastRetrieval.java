package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.RetrievalOps;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TokenQueries;
import io.inflow.gpu.retrieval.TokenSet;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;
import java.util.List;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact top-k on the fast CPU backend, the CPU twin of {@code retrieval.cu} (MaxSim: {@link FastMaxSim}). Same hits
 * and order as {@code RetrievalReference}; scores in float32 arithmetic instead of double.
 *
 * <p>Layout of the work:
 * <ul>
 *   <li><b>Row ranges over threads.</b> The rows of all chunks are split into contiguous ranges, one task each
 *       ({@link ParallelRunner}); a task keeps its own candidates per query, merged at the end.</li>
 *   <li><b>Blocked queries x rows.</b> A task walks its rows in tiles of {@link #ROW_TILE}; each tile is scored
 *       against every query, {@link #QUERY_BLOCK} queries at a time sharing each document load, so a document row
 *       comes from memory once per tile and from L1/L2 for the other query blocks. At batch 1 that is one stream over
 *       the documents (memory-bound); at large batches the FMAs dominate.</li>
 *   <li><b>Storage widened once per tile.</b> float16 bits become float32 lanes with integer operations (exact,
 *       including subnormals, infinities and NaN), int8 lanes are converted to float (the row's scale multiplies the
 *       finished dot product); the widened tile (at most 96 KiB) stays in L1/L2 for every query block, so the
 *       conversion is done once per row, not once per query block, and one float32 dot loop serves all storages.
 *       float32 rows are read in place.</li>
 *   <li><b>Selection:</b> a bounded binary heap per query and task (worst of the kept k at the root, ordered by the
 *       full hit order: score, tie key, chunk, row), then a k-way merge of the tasks' sorted heaps.</li>
 * </ul>
 *
 * <p>Determinism: a row's score is computed by one code path whatever the query block, task or thread (lane-wise
 * FMAs in a fixed order, lanes summed in lane order, scalar tail, then {@link Metric#score} on the float dot and the
 * stored norm), so identical stored vectors get bit-identical scores and exact ties stay ties, broken by tie key,
 * chunk and row. Each task keeps an exact top-k under a total order, so the merged result does not depend on how
 * rows were split over threads.
 *
 * <pre>{@code
 * RetrievalOps ops = new FastRetrieval(runner);
 * TopK top = ops.search(chunks, new SearchRequest(queries, 64, 384, 10, Metric.COSINE, null));
 * }</pre>
 */
public final class FastRetrieval implements RetrievalOps {
    /** Queries scored together against one loaded document vector (4 accumulators live in registers). */
    static final int QUERY_BLOCK = 4;
    /** Rows per tile: 64 x 384 float32 = 96 KiB, held in L2 while every query block passes over it. */
    static final int ROW_TILE = 64;
    /** Fewest rows worth a task of their own (below, the hand-over costs more than the rows); also at least 4 k. */
    static final int MIN_ROWS_PER_TASK = 1024;

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = S.length();
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, S.vectorShape());
    private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class,
            VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(S.vectorBitSize() / 4));

    private final ParallelRunner runner;
    private final FastMaxSim maxSim;

    public FastRetrieval(ParallelRunner runner) {
        this.runner = runner;
        this.maxSim = new FastMaxSim(runner);
    }

    @Override
    public TopK search(List<VectorChunk> chunks, SearchRequest request) {
        int dim = request.dim();
        long[] start = new long[chunks.size() + 1];
        for (int ci = 0; ci < chunks.size(); ci++) {
            VectorChunk c = chunks.get(ci);
            if (c.dim() != dim) {
                throw new IllegalArgumentException("chunk of dim " + c.dim() + " searched with queries of dim " + dim);
            }
            start[ci + 1] = start[ci] + c.count();
        }
        int n = request.count();
        int k = request.k();
        TopK out = new TopK(n, k);
        long rows = start[chunks.size()];
        if (n == 0 || rows == 0) {
            return out;
        }
        float[] qs = request.queries();
        double[] qNorm = new double[n];
        for (int q = 0; q < n; q++) {
            double sq = 0;
            for (int j = 0; j < dim; j++) {
                sq += (double) qs[q * dim + j] * qs[q * dim + j];
            }
            qNorm[q] = Math.sqrt(sq);
        }
        // a task keeps up to k candidates per query: give each at least 4 k rows so that selection stays cheap
        long minRows = Math.max(MIN_ROWS_PER_TASK, 4L * k);
        int tasks = (int) Math.max(1, Math.min(runner.threads() * 2L, rows / minRows));
        Heap[][] heaps = new Heap[tasks][];
        runner.parallelFor(tasks, rows * n * dim, t -> {
            long from = rows * t / tasks;
            long to = rows * (t + 1) / tasks;
            Heap[] mine = new Heap[n];
            int cap = (int) Math.min(k, to - from);
            for (int q = 0; q < n; q++) {
                mine[q] = new Heap(cap);
            }
            Scorer scorer = new Scorer(request, qNorm);
            for (int ci = 0; ci < chunks.size(); ci++) {
                long lo = Math.max(from, start[ci]);
                long hi = Math.min(to, start[ci + 1]);
                if (lo < hi) {
                    scorer.scan(chunks.get(ci), ci, (int) (lo - start[ci]), (int) (hi - start[ci]), mine);
                }
            }
            heaps[t] = mine;
        });
        merge(heaps, chunks, n, k, out);
        return out;
    }

    /** Per query: the tasks' heaps drained into sorted runs, then a k-way merge by the hit order. */
    private static void merge(Heap[][] heaps, List<VectorChunk> chunks, int n, int k, TopK out) {
        int tasks = heaps.length;
        for (int q = 0; q < n; q++) {
            Heap[] runs = new Heap[tasks];
            int[] at = new int[tasks];
            for (int t = 0; t < tasks; t++) {
                runs[t] = heaps[t][q];
                runs[t].sortBestFirst();
            }
            for (int i = 0; i < k; i++) {
                int best = -1;
                for (int t = 0; t < tasks; t++) {
                    if (at[t] < runs[t].size && (best < 0 || runs[t].better(at[t], runs[best], at[best]))) {
                        best = t;
                    }
                }
                if (best < 0) {
                    break;
                }
                Heap h = runs[best];
                int j = at[best]++;
                out.set(q, i, h.chunk[j], h.row[j], h.score[j]);
            }
        }
    }

    /** Scores rows against every query of a request and offers them to the queries' heaps. Not thread-safe. */
    private static final class Scorer {
        private final float[] qs;
        private final int n;
        private final int dim;
        private final Metric metric;
        private final double[] qNorm;
        private final int[] filter;
        private final float[] lanes = new float[LANES];
        private final float[] dots = new float[QUERY_BLOCK];
        /** Float32 copy of the current tile of a float16 / int8 chunk. */
        private final float[] tile;

        Scorer(SearchRequest r, double[] qNorm) {
            this.qs = r.queries();
            this.n = r.count();
            this.dim = r.dim();
            this.metric = r.metric();
            this.qNorm = qNorm;
            this.filter = new int[n];
            this.tile = new float[ROW_TILE * dim];
            for (int q = 0; q < n; q++) {
                filter[q] = r.filterCode(q);
            }
        }

        void scan(VectorChunk c, int ci, int from, int to, Heap[] heaps) {
            boolean[] live = c.live();
            int[] codes = c.filterCodes();
            long[] ties = c.tieKeys();
            float[] norms = c.norms();
            float[] scales = c.scales();
            for (int tile = from; tile < to; tile += ROW_TILE) {
                int tileEnd = Math.min(to, tile + ROW_TILE);
                float[] docs;
                int docOrigin;                     // docs index of value 0 of row `tile`
                if (c.storage() == Storage.FLOAT32) {
                    docs = c.f32();
                    docOrigin = tile * dim;
                } else {
                    docs = widen(c, tile, tileEnd);
                    docOrigin = 0;
                }
                for (int q0 = 0; q0 < n; q0 += QUERY_BLOCK) {
                    int qn = Math.min(QUERY_BLOCK, n - q0);
                    for (int r = tile; r < tileEnd; r++) {
                        if (!live[r]) {
                            continue;
                        }
                        int code = codes[r];
                        boolean any = false;
                        for (int i = 0; i < qn; i++) {
                            int f = filter[q0 + i];
                            any |= f == VectorChunk.NO_FILTER_CODE || f == code;
                        }
                        if (!any) {
                            continue;
                        }
                        int base = docOrigin + (r - tile) * dim;
                        if (qn == QUERY_BLOCK) {
                            dot4(docs, base, q0);
                        } else {
                            for (int i = 0; i < qn; i++) {
                                dots[i] = dot1(docs, base, q0 + i);
                            }
                        }
                        float scale = scales == null ? 1f : scales[r];
                        for (int i = 0; i < qn; i++) {
                            int q = q0 + i;
                            int f = filter[q];
                            if (f != VectorChunk.NO_FILTER_CODE && f != code) {
                                continue;
                            }
                            float dot = scales == null ? dots[i] : dots[i] * scale;
                            float s = (float) metric.score(dot, qNorm[q], norms[r]);
                            heaps[q].offer(s, ties[r], ci, r);
                        }
                    }
                }
            }
        }

        /**
         * Rows {@code [from, to)} of a float16 or int8 chunk as float32 values (int8 without its scale) in the tile
         * buffer: widened once per tile with the Vector API, then read from L1/L2 by every query block (exact, so the
         * scores are those of widening in the dot loop itself).
         */
        private float[] widen(VectorChunk c, int from, int to) {
            int start = from * dim;
            int len = (to - from) * dim;
            int bound = S.loopBound(len);
            int i = 0;
            if (c.storage() == Storage.FLOAT16) {
                short[] h = c.f16();
                for (; i < bound; i += LANES) {
                    halfToFloat(h, start + i).intoArray(tile, i);
                }
                for (; i < len; i++) {
                    tile[i] = io.inflow.schemas.Float16.toFloat(h[start + i]);
                }
            } else {
                byte[] b = c.i8();
                for (; i < bound; i += LANES) {
                    ((FloatVector) ByteVector.fromArray(BS, b, start + i).convertShape(VectorOperators.B2F, S, 0))
                            .intoArray(tile, i);
                }
                for (; i < len; i++) {
                    tile[i] = b[start + i];
                }
            }
            return tile;
        }

        /** The dot products of the document at {@code docs[base..]} with queries {@code q0 .. q0 + 3} into {@link #dots}. */
        private void dot4(float[] docs, int base, int q0) {
            int b0 = q0 * dim;
            int b1 = b0 + dim;
            int b2 = b1 + dim;
            int b3 = b2 + dim;
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            int bound = S.loopBound(dim);
            int j = 0;
            for (; j < bound; j += LANES) {
                FloatVector d = FloatVector.fromArray(S, docs, base + j);
                a0 = FloatVector.fromArray(S, qs, b0 + j).fma(d, a0);
                a1 = FloatVector.fromArray(S, qs, b1 + j).fma(d, a1);
                a2 = FloatVector.fromArray(S, qs, b2 + j).fma(d, a2);
                a3 = FloatVector.fromArray(S, qs, b3 + j).fma(d, a3);
            }
            dots[0] = tail(docs, base, b0, j, laneSum(a0));
            dots[1] = tail(docs, base, b1, j, laneSum(a1));
            dots[2] = tail(docs, base, b2, j, laneSum(a2));
            dots[3] = tail(docs, base, b3, j, laneSum(a3));
        }

        /** The dot product of one document with query {@code q}: the same operations as one lane of {@link #dot4}. */
        private float dot1(float[] docs, int base, int q) {
            int b0 = q * dim;
            FloatVector a0 = FloatVector.zero(S);
            int bound = S.loopBound(dim);
            int j = 0;
            for (; j < bound; j += LANES) {
                a0 = FloatVector.fromArray(S, qs, b0 + j).fma(FloatVector.fromArray(S, docs, base + j), a0);
            }
            return tail(docs, base, b0, j, laneSum(a0));
        }

        /** Lanes summed in lane order (a tree reduction may round differently interpreted and compiled). */
        private float laneSum(FloatVector v) {
            v.intoArray(lanes, 0);
            float s = 0f;
            for (int i = 0; i < LANES; i++) {
                s += lanes[i];
            }
            return s;
        }

        private float tail(float[] docs, int base, int qBase, int j, float s) {
            for (; j < dim; j++) {
                s = Math.fma(qs[qBase + j], docs[base + j], s);
            }
            return s;
        }
    }

    private static final int HALF_MAGNITUDE = 0x7fff;
    private static final int HALF_EXPONENT = 0x7c00;
    private static final float HALF_TO_FLOAT_SCALE = 0x1p112f;

    /**
     * IEEE half bits to float lanes, exactly: the 15 magnitude bits shifted into a float's place are the value
     * times 2^-112 (normals and subnormals alike), so one multiplication by 2^112 restores it; exponent 31
     * (infinity, NaN) is mapped to float exponent 255 separately; the sign bit is moved to bit 31.
     */
    static FloatVector halfToFloat(short[] bits, int at) {
        IntVector h = (IntVector) ShortVector.fromArray(SS, bits, at).convertShape(VectorOperators.S2I, IS, 0);
        IntVector mag = h.and(HALF_MAGNITUDE).lanewise(VectorOperators.LSHL, 13);
        IntVector value = mag.reinterpretAsFloats().mul(HALF_TO_FLOAT_SCALE).reinterpretAsInts();
        VectorMask<Integer> special = h.and(HALF_EXPONENT).compare(VectorOperators.EQ, HALF_EXPONENT);
        value = value.blend(mag.or(0x7f800000), special);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return value.or(sign).reinterpretAsFloats();
    }

    static {
        if (Storage.values().length != 3) {
            throw new AssertionError("FastRetrieval handles FLOAT32, FLOAT16 and INT8 only");
        }
    }

    /**
     * The best {@code capacity} hits seen, as a binary heap with the worst kept hit at the root (so a new hit is
     * compared with the root once and, if better, replaces it in O(log k)). Ordered by the full hit order.
     */
    static final class Heap {
        final float[] score;
        final long[] tie;
        final int[] chunk;
        final int[] row;
        int size;

        Heap(int capacity) {
            score = new float[capacity];
            tie = new long[capacity];
            chunk = new int[capacity];
            row = new int[capacity];
        }

        /** Whether hit {@code (s, t, c, r)} comes before hit {@code i} of {@code h}. */
        static boolean before(float s, long t, int c, int r, Heap h, int i) {
            if (s != h.score[i]) {
                return s > h.score[i];
            }
            if (t != h.tie[i]) {
                return t < h.tie[i];
            }
            if (c != h.chunk[i]) {
                return c < h.chunk[i];
            }
            return r < h.row[i];
        }

        boolean better(int i, Heap o, int j) {
            return before(score[i], tie[i], chunk[i], row[i], o, j);
        }

        void offer(float s, long t, int c, int r) {
            int cap = score.length;
            if (size < cap) {
                int i = size++;
                while (i > 0) {                       // sift up: the parent must be worse than the new hit
                    int p = (i - 1) >>> 1;
                    if (before(s, t, c, r, this, p)) {
                        break;
                    }
                    move(p, i);
                    i = p;
                }
                put(i, s, t, c, r);
            } else if (cap > 0 && before(s, t, c, r, this, 0)) {
                siftDown(0, s, t, c, r, size);
            }
        }

        /** Places the hit at {@code i} of a heap of {@code n}, moving the worse child up while it is worse. */
        private void siftDown(int i, float s, long t, int c, int r, int n) {
            while (true) {
                int l = 2 * i + 1;
                if (l >= n) {
                    break;
                }
                int w = l + 1 < n && better(l, this, l + 1) ? l + 1 : l;   // the worse child
                // stop when the hit is worse than (comes after) its worse child
                if (!before(s, t, c, r, this, w)) {
                    break;
                }
                move(w, i);
                i = w;
            }
            put(i, s, t, c, r);
        }

        /** Reorders the kept hits best first (heap sort: the worst goes to the end each round). */
        void sortBestFirst() {
            for (int n = size - 1; n > 0; n--) {
                float s = score[n];
                long t = tie[n];
                int c = chunk[n];
                int r = row[n];
                move(0, n);
                siftDown(0, s, t, c, r, n);
            }
        }

        private void move(int from, int to) {
            score[to] = score[from];
            tie[to] = tie[from];
            chunk[to] = chunk[from];
            row[to] = row[from];
        }

        private void put(int i, float s, long t, int c, int r) {
            score[i] = s;
            tie[i] = t;
            chunk[i] = c;
            row[i] = r;
        }
    }

    /** MaxSim by {@link FastMaxSim} on this backend's threads. */
    @Override
    public float[] maxSim(TokenQueries queries, TokenSet documents, int[] pairQuery, int[] pairDoc) {
        return maxSim.maxSim(queries, documents, pairQuery, pairDoc);
    }
}
