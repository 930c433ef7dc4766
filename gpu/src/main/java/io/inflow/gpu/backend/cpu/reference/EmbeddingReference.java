package io.inflow.gpu.backend.cpu.reference;

import io.inflow.gpu.tensor.Tensor;

/**
 * Embedding gather: word + absolute position + token type. The tables are read in place (a vocabulary
 * table is tens of MB: copying it per call would dominate), one element at a time.
 *
 * <p>{@code EmbeddingReference.embed(ids, null, words, positions, types, out, batch, seq, dim);}
 */
public final class EmbeddingReference {
    private EmbeddingReference() {
    }

    /**
     * {@code out[b, s, :] = word[ids[b, s]] + position[s] + type[types[b, s]]}; {@code types == null} means
     * type 0, {@code typeTable == null} means no type embedding.
     */
    public static void embed(int[] ids, int[] types, Tensor wordTable, Tensor positionTable, Tensor typeTable,
                             float[] out, int batch, int seq, int dim) {
        int vocab = wordTable.dim(0);
        int typeVocab = typeTable == null ? 0 : typeTable.dim(0);
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < seq; s++) {
                int t = b * seq + s;
                int id = ids[t];
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("embed: token id " + id + " at [" + b + ", " + s
                            + "] outside the vocabulary [0, " + vocab + ")");
                }
                int type = types == null ? 0 : types[t];
                if (typeTable != null && (type < 0 || type >= typeVocab)) {
                    throw new IllegalArgumentException("embed: token type " + type + " at [" + b + ", " + s
                            + "] outside [0, " + typeVocab + ")");
                }
                for (int c = 0; c < dim; c++) {
                    float e = wordTable.getFloat((long) id * dim + c) + positionTable.getFloat((long) s * dim + c);
                    if (typeTable != null) {
                        e += typeTable.getFloat((long) type * dim + c);
                    }
                    out[t * dim + c] = e;
                }
            }
        }
    }
}
