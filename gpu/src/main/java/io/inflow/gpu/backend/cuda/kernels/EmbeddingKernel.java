package io.inflow.gpu.backend.cuda.kernels;

import io.inflow.gpu.backend.cuda.KernelArgs;
import io.inflow.gpu.backend.cuda.KernelLauncher;
import io.inflow.gpu.tensor.Tensor;

/**
 * Launcher of {@code embedding.cu}: {@code embedding_f32}, word + position + token-type gather. CPU twin:
 * {@code EmbeddingReference}. One block of 128 threads per token. Ids must have been range-checked (the kernel
 * trusts them). C signature {@code (ids, types, word_table, position_table, type_table, out, seq, dim)}.
 *
 * <p>{@code EmbeddingKernel.launch(launcher, ids, null, word, pos, type, out, batch, seq, dim);}
 */
public final class EmbeddingKernel {
    public static final String MODULE = "embedding";
    public static final String FUNCTION = "embedding_f32";
    static final int THREADS = 128;

    private EmbeddingKernel() {
    }

    public static void launch(KernelLauncher launcher, Tensor ids, Tensor types, Tensor wordTable, Tensor positionTable,
                              Tensor typeTable, Tensor out, int batch, int seq, int dim) {
        long tokens = (long) batch * seq;
        if (tokens == 0) {
            return;
        }
        if (tokens > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("embed: " + tokens + " tokens exceed the grid limit " + Integer.MAX_VALUE);
        }
        launcher.launch(MODULE, FUNCTION, (int) tokens, 1, 1, THREADS, 0, "b=" + batch + " s=" + seq + " d=" + dim,
                KernelArgs.of().ptr(ids).ptr(types).ptr(wordTable).ptr(positionTable).ptr(typeTable).ptr(out)
                        .i32(seq).i32(dim));
    }
}
