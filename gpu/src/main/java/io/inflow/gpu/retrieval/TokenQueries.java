package io.inflow.gpu.retrieval;

/**
 * The query side of MaxSim: the float32 token vectors of several queries, back to back ({@code [totalTokens, dim]}
 * row-major), query {@code q} owning rows {@code [offsets[q], offsets[q + 1])}. Every query has at least one token.
 *
 * <pre>{@code
 * // two queries of 3 and 2 tokens, dim 128
 * TokenQueries q = new TokenQueries(tokens, new int[] {0, 3, 5}, 128);
 * }</pre>
 *
 * @param tokens  {@code offsets[count] * dim} values
 * @param offsets {@code count + 1} ascending token offsets, starting at 0
 * @param dim     values per token
 */
public record TokenQueries(float[] tokens, int[] offsets, int dim) {

    public TokenQueries {
        if (dim < 1) {
            throw new IllegalArgumentException("dim must be positive (was " + dim + ")");
        }
        if (offsets.length < 1 || offsets[0] != 0) {
            throw new IllegalArgumentException("offsets must start with 0 and have count + 1 entries");
        }
        for (int q = 0; q + 1 < offsets.length; q++) {
            if (offsets[q + 1] <= offsets[q]) {
                throw new IllegalArgumentException("query " + q + " has no tokens (offsets " + offsets[q] + ", "
                        + offsets[q + 1] + ")");
            }
        }
        if ((long) offsets[offsets.length - 1] * dim != tokens.length) {
            throw new IllegalArgumentException("offsets say " + offsets[offsets.length - 1] + " tokens of dim " + dim
                    + " but " + tokens.length + " values were given");
        }
    }

    /** Number of queries. */
    public int count() {
        return offsets.length - 1;
    }

    /** Tokens of query {@code q}. */
    public int tokenCount(int q) {
        return offsets[q + 1] - offsets[q];
    }
}
