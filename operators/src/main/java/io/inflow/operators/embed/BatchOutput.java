package io.inflow.operators.embed;

/**
 * What compute returns for a batch: one embedding row per input row, or none.
 *
 * <p>{@code BatchOutput out = BatchOutput.embeddings(rows, 384, values); float[] row3 = out.row(3);}
 *
 * @param rows number of rows, equal to the batch's row count
 * @param dimension embedding width, 0 when the compute produces no embedding
 * @param embeddings {@code float32 [rows, dimension]} row-major, or null when {@code dimension == 0}
 */
public record BatchOutput(int rows, int dimension, float[] embeddings) {

    public BatchOutput {
        if (dimension == 0 ? embeddings != null : embeddings == null || embeddings.length != rows * dimension) {
            throw new IllegalArgumentException("embeddings must hold rows x dimension = " + rows + " x " + dimension
                    + " values (got " + (embeddings == null ? "none" : embeddings.length) + ")");
        }
    }

    /** An output without embeddings (token statistics only). */
    public static BatchOutput withoutEmbeddings(int rows) {
        return new BatchOutput(rows, 0, null);
    }

    /** An output with one embedding per row. */
    public static BatchOutput embeddings(int rows, int dimension, float[] values) {
        return new BatchOutput(rows, dimension, values);
    }

    public boolean hasEmbeddings() {
        return dimension > 0;
    }

    /** A copy of row {@code i}'s embedding. */
    public float[] row(int i) {
        float[] out = new float[dimension];
        System.arraycopy(embeddings, i * dimension, out, 0, dimension);
        return out;
    }
}
