package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code retrieval.cu}: {@code topk_slice_f32 / _f16 / _i8} (fused score-and-select over one chunk; grid
 * {@code (slices, ceil(queries / qt))}, 256 threads) and {@code topk_merge} (the final k per query from the slices'
 * candidates; one 256-thread block per query). CPU twins: {@code RetrievalReference}, {@code FastRetrieval}. The
 * launch plan ({@link Plan}) sizes the shared-memory buffers; arguments must have been checked on the host.
 *
 * <pre>{@code
 * RetrievalKernel.Plan plan = RetrievalKernel.plan(dim, k);
 * RetrievalKernel.slice(launcher, Storage.FLOAT16, chunkTensors..., plan, ...);
 * RetrievalKernel.merge(launcher, candidates..., queries, totalSlots, k, outs...);
 * }</pre>
 */
public final class RetrievalKernel {
    public static final String MODULE = "retrieval";
    static final int THREADS = 256;
    /** Rows a slice block scores between two buffer checks (8 warps x 4 rows; retrieval.cu's ROUND_ROWS). */
    static final int ROUND_ROWS = 32;
    /** Queries a slice block holds at most (retrieval.cu's MAX_QT). */
    public static final int MAX_QUERY_TILE = 4;
    /** Largest dim the CUDA kernels accept (the query tile lives in 48 KiB of shared memory beside the buffers). */
    public static final int MAX_DIM = 2048;
    /** Fewest rows per slice; a slice also holds at least 8 k rows so that its candidates are at most 1/8 of it. */
    public static final int MIN_SLICE_ROWS = 1024;
    /** The Java side's shared-memory budget per block (the default limit, no opt-in needed). */
    static final int SHARED_LIMIT = KernelLauncher.DEFAULT_SHARED_LIMIT;

    private RetrievalKernel() {
    }

    /**
     * How a search is cut: {@code sliceRows} rows per slice block, {@code queryTile} queries per block, buffers of
     * {@code cap} entries (power of two, twice the kept candidates rounded up), the merge's buffer {@code mergeCap}.
     */
    public record Plan(int k, int dim, int sliceRows, int queryTile, int cap, int mergeCap) {
        /** Candidates a slice of a chunk of {@code rows} rows writes per query. */
        public int kOut() {
            return Math.min(k, sliceRows);
        }

        public int slices(int rows) {
            return (rows + sliceRows - 1) / sliceRows;
        }

        int sliceShared() {
            return queryTile * (dim * 4 + cap * 8) + 64;
        }

        int mergeShared() {
            return mergeCap * 8 + 64;
        }
    }

    static int pow2AtLeast(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }

    /** The launch plan for {@code k} hits of {@code dim}-dimensional queries. */
    public static Plan plan(int dim, int k) {
        if (dim > MAX_DIM) {
            throw new IllegalArgumentException("CUDA retrieval supports dim up to " + MAX_DIM + " (requested " + dim
                    + ")");
        }
        int sliceRows = Math.max(MIN_SLICE_ROWS, 8 * k);
        int kOut = Math.min(k, sliceRows);
        int cap = 2 * pow2AtLeast(Math.max(kOut, 2 * ROUND_ROWS));
        int mergeCap = 2 * pow2AtLeast(Math.max(k, THREADS));
        int qt = MAX_QUERY_TILE;
        while (qt > 1 && qt * (dim * 4 + cap * 8) + 64 > SHARED_LIMIT) {
            qt /= 2;
        }
        Plan p = new Plan(k, dim, sliceRows, qt, cap, mergeCap);
        if (p.sliceShared() > SHARED_LIMIT || p.mergeShared() > SHARED_LIMIT) {
            throw new IllegalArgumentException("CUDA retrieval: k " + k + " with dim " + dim + " needs "
                    + p.sliceShared() + " bytes of shared memory (limit " + SHARED_LIMIT + ")");
        }
        return p;
    }

    static int metricCode(Metric metric) {
        return switch (metric) {
            case INNER_PRODUCT -> 0;
            case COSINE -> 1;
            case L2 -> 2;
        };
    }

    static String sliceFunction(Storage storage) {
        return switch (storage) {
            case FLOAT32 -> "topk_slice_f32";
            case FLOAT16 -> "topk_slice_f16";
            case INT8 -> "topk_slice_i8";
        };
    }

    /**
     * One chunk's slices. C signature {@code (values, scales, norms, tie, codes, live, rows, dim, chunk_index,
     * queries, q_norms, q_codes, nq, qt, metric, slice_rows, k_out, cap, cand_score, cand_tie, cand_chunk, cand_row,
     * total_slots, slot_base)}; {@code scales} may be any tensor unless int8.
     */
    public static void slice(KernelLauncher launcher, Storage storage, Tensor values, Tensor scales, Tensor norms,
                             Tensor tie, Tensor codes, Tensor live, int rows, int chunkIndex, Tensor queries,
                             Tensor qNorms, Tensor qCodes, int nq, Metric metric, Plan plan, Tensor candScore,
                             Tensor candTie, Tensor candChunk, Tensor candRow, int totalSlots, int slotBase) {
        if (rows == 0 || nq == 0) {
            return;
        }
        String shapes = storage + " rows=" + rows + " dim=" + plan.dim() + " chunk=" + chunkIndex + " nq=" + nq
                + " k=" + plan.k() + " " + metric + " plan=" + plan + " slots=" + totalSlots + "@" + slotBase;
        int tiles = KernelLauncher.ceilDiv(nq, plan.queryTile());
        launcher.launch(MODULE, sliceFunction(storage), plan.slices(rows), tiles, 1, THREADS, plan.sliceShared(),
                shapes, KernelArgs.of().ptr(values).ptr(scales).ptr(norms).ptr(tie).ptr(codes).ptr(live)
                        .i32(rows).i32(plan.dim()).i32(chunkIndex).ptr(queries).ptr(qNorms).ptr(qCodes).i32(nq)
                        .i32(plan.queryTile()).i32(metricCode(metric)).i32(plan.sliceRows()).i32(plan.kOut())
                        .i32(plan.cap()).ptr(candScore).ptr(candTie).ptr(candChunk).ptr(candRow).i32(totalSlots)
                        .i32(slotBase));
    }

    /**
     * The final k per query. C signature {@code (cand_score, cand_tie, cand_chunk, cand_row, total_slots, k, cap,
     * out_score, out_chunk, out_row, out_count)}; grid {@code nq} blocks.
     */
    public static void merge(KernelLauncher launcher, Tensor candScore, Tensor candTie, Tensor candChunk,
                             Tensor candRow, int nq, int totalSlots, Plan plan, Tensor outScore, Tensor outChunk,
                             Tensor outRow, Tensor outCount) {
        if (nq == 0) {
            return;
        }
        launcher.launch(MODULE, "topk_merge", nq, 1, 1, THREADS, plan.mergeShared(),
                "nq=" + nq + " slots=" + totalSlots + " k=" + plan.k() + " cap=" + plan.mergeCap(),
                KernelArgs.of().ptr(candScore).ptr(candTie).ptr(candChunk).ptr(candRow).i32(totalSlots)
                        .i32(plan.k()).i32(plan.mergeCap()).ptr(outScore).ptr(outChunk).ptr(outRow).ptr(outCount));
    }
}
