package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.tensor.NativeMemory;
import io.inflow.gpu.tensor.Tensor;

/**
 * The embedding gather of the fast CPU backend: rows of the batch spread over the kernel threads, each token's word,
 * position and type rows read straight from the tables' native memory. Same sums in the same order as
 * {@code EmbeddingReference}, so bit-identical to it.
 *
 * <p>{@code FastEmbedding.embed(ids, types, word, position, type, out, batch, seq, dim, runner);}
 */
public final class FastEmbedding {

    private FastEmbedding() {
    }

    /** {@code out[b, s, :] = word[ids[b, s]] + position[s] (+ type[types[b, s]])}; ids and types checked per token. */
    public static void embed(int[] ids, int[] types, Tensor wordTable, Tensor positionTable, Tensor typeTable,
                             Tensor out, int batch, int seq, int dim, ParallelRunner runner) {
        int vocab = wordTable.dim(0);
        int typeVocab = typeTable == null ? 0 : typeTable.dim(0);
        runner.parallelFor(batch, b -> {
            float[] row = new float[dim];
            float[] add = new float[dim];
            for (int s = 0; s < seq; s++) {
                int t = b * seq + s;
                if (ids[t] < 0 || ids[t] >= vocab) {
                    throw new IllegalArgumentException("embed: token id " + ids[t] + " at [" + b + ", " + s
                            + "] outside the vocabulary [0, " + vocab + ")");
                }
                NativeMemory.copyToArray(wordTable.address() + 4L * ids[t] * dim, row, 0, dim);
                NativeMemory.copyToArray(positionTable.address() + 4L * s * dim, add, 0, dim);
                for (int c = 0; c < dim; c++) {
                    row[c] += add[c];
                }
                if (typeTable != null) {
                    int type = types == null ? 0 : types[t];
                    if (type < 0 || type >= typeVocab) {
                        throw new IllegalArgumentException("embed: token type " + type + " at [" + b + ", " + s
                                + "] outside [0, " + typeVocab + ")");
                    }
                    NativeMemory.copyToArray(typeTable.address() + 4L * type * dim, add, 0, dim);
                    for (int c = 0; c < dim; c++) {
                        row[c] += add[c];
                    }
                }
                NativeMemory.copyFromArray(row, 0, out.address() + 4L * t * dim, dim);
            }
        });
    }
}
