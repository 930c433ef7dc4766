package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.retrieval.TokenStorage;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code maxsim.cu}: {@code maxsim_f32 / _i8 / _b1}, one 256-thread block per pair, dot tiles of 32 query
 * x 32 document tokens staged in shared memory in chunks of 64 values. CPU twins: {@code RetrievalReference.maxSim},
 * {@code FastMaxSim}. Arguments must have been checked on the host ({@code RetrievalOps.checkMaxSim}).
 *
 * <pre>{@code
 * int[] order = MaxSimKernel.byDocument(pairDoc, documents.count());   // launch order: pairs of a document together
 * MaxSimKernel.launch(launcher, TokenStorage.INT8, values, scales, docOffsets, queries, queryOffsets,
 *         sortedPairQuery, sortedPairDoc, pairs, dim, words, out);
 * }</pre>
 */
public final class MaxSimKernel {
    public static final String MODULE = "maxsim";
    static final int THREADS = 256;
    /** Query tokens per tile (maxsim.cu's QT). */
    public static final int QUERY_TILE = 32;
    /** Document tokens per tile (maxsim.cu's DT). */
    public static final int DOC_TILE = 32;
    /** Values per shared-memory chunk (maxsim.cu's KC); rows are padded by one float against bank conflicts. */
    public static final int CHUNK = 64;
    /** Dynamic shared memory of a block: both staged chunks plus the row maxima of a query tile. */
    public static final int SHARED_BYTES = (QUERY_TILE + DOC_TILE) * (CHUNK + 1) * 4 + QUERY_TILE * 4;

    private MaxSimKernel() {
    }

    static String function(TokenStorage storage) {
        return switch (storage) {
            case FLOAT32 -> "maxsim_f32";
            case INT8 -> "maxsim_i8";
            case BIT1 -> "maxsim_b1";
        };
    }

    /**
     * Pair indices in launch order: by document, pairs of one document in their given order, so that neighbouring
     * blocks read the same document from L2 ({@link io.inflow.gpu.retrieval.TokenSet#pairsByDocument}). Scores do not
     * depend on the order.
     */
    public static int[] byDocument(int[] pairDoc, int documents) {
        return io.inflow.gpu.retrieval.TokenSet.pairsByDocument(pairDoc, documents);
    }

    /**
     * Scores {@code pairs} pairs into {@code out}. C signature {@code (values, scales, doc_offsets, queries,
     * query_offsets, pair_query, pair_doc, dim, words, out)}: values as stored (float32, int8 bytes, or 64-bit sign
     * words, {@code words} per token), {@code scales} per token (any tensor for float32), grid {@code pairs} blocks.
     */
    public static void launch(KernelLauncher launcher, TokenStorage storage, Tensor values, Tensor scales,
                              Tensor docOffsets, Tensor queries, Tensor queryOffsets, Tensor pairQuery,
                              Tensor pairDoc, int pairs, int dim, int words, Tensor out) {
        if (pairs == 0) {
            return;
        }
        String shapes = storage + " pairs=" + pairs + " dim=" + dim + " words=" + words;
        launcher.launch(MODULE, function(storage), pairs, 1, 1, THREADS, SHARED_BYTES, shapes,
                KernelArgs.of().ptr(values).ptr(scales).ptr(docOffsets).ptr(queries).ptr(queryOffsets)
                        .ptr(pairQuery).ptr(pairDoc).i32(dim).i32(words).ptr(out));
    }
}
