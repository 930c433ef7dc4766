package io.inflow.operators.embed;

import io.inflow.operators.score.ScoredRows;

/**
 * What compute returns for a batch: one embedding row per input row, or none; optionally each row's per-token
 * vectors for MaxSim rerank.
 *
 * <p>{@code BatchOutput out = BatchOutput.embeddings(rows, 384, values); float[] row3 = out.row(3);}
 *
 * @param rows number of rows, equal to the batch's row count
 * @param dimension embedding width, 0 when the compute produces no embedding
 * @param embeddings {@code float32 [rows, dimension]} row-major, or null when {@code dimension == 0}
 * @param tokens per-token vectors {@code [tokenOffsets[rows], tokenDim]}, or null
 * @param tokenOffsets row {@code r} owns tokens {@code [tokenOffsets[r], tokenOffsets[r + 1])}; null without tokens
 * @param tokenDim values per token vector; 0 without tokens
 * @param scores a scorer's class probabilities per row ({@link #withScores}), or null without a scorer
 */
public record BatchOutput(int rows, int dimension, float[] embeddings, float[] tokens, int[] tokenOffsets,
        int tokenDim, ScoredRows scores) {

    public BatchOutput {
        if (dimension == 0 ? embeddings != null : embeddings == null || embeddings.length != rows * dimension) {
            throw new IllegalArgumentException("embeddings must hold rows x dimension = " + rows + " x " + dimension
                    + " values (got " + (embeddings == null ? "none" : embeddings.length) + ")");
        }
        if (tokens != null && (tokenOffsets == null || tokenOffsets.length != rows + 1
                || (long) tokenOffsets[rows] * tokenDim != tokens.length)) {
            throw new IllegalArgumentException("tokens must hold tokenOffsets[rows] x tokenDim values with rows + 1 "
                    + "offsets");
        }
        if (scores != null && scores.rows() != rows) {
            throw new IllegalArgumentException("scores hold " + scores.rows() + " rows, the batch " + rows);
        }
    }

    public BatchOutput(int rows, int dimension, float[] embeddings) {
        this(rows, dimension, embeddings, null, null, 0, null);
    }

    /** This output with a scorer's probabilities for its rows. */
    public BatchOutput withScores(ScoredRows scores) {
        return new BatchOutput(rows, dimension, embeddings, tokens, tokenOffsets, tokenDim, scores);
    }

    /** An output with one embedding and a run of token vectors per row. */
    public static BatchOutput withTokens(int rows, int dimension, float[] values, float[] tokens, int[] tokenOffsets,
            int tokenDim) {
        return new BatchOutput(rows, dimension, values, tokens, tokenOffsets, tokenDim, null);
    }

    public boolean hasTokens() {
        return tokens != null;
    }

    /** A copy of row {@code i}'s token vectors ({@code [n, tokenDim]} row-major). */
    public float[] tokenRow(int i) {
        int from = tokenOffsets[i] * tokenDim;
        int to = tokenOffsets[i + 1] * tokenDim;
        float[] out = new float[to - from];
        System.arraycopy(tokens, from, out, 0, out.length);
        return out;
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
