package io.inflow.gpu.testing;

/**
 * Token ids of a batch padded with 0 to the longest row, plus per-row lengths: the shape the pipeline
 * hands to the encoder ({@code int32 [b, s]} row-major and {@code int32 [b]}).
 *
 * <p>{@code TokenBatch batch = tokenizer.batch(List.of("a", "b c"));}
 */
public record TokenBatch(int[] ids, int[] lengths, int batch, int seq) {

    public static TokenBatch of(long[][] rows) {
        int seq = 1;
        for (long[] r : rows) {
            seq = Math.max(seq, r.length);
        }
        int[] ids = new int[rows.length * seq];
        int[] len = new int[rows.length];
        for (int b = 0; b < rows.length; b++) {
            len[b] = rows[b].length;
            for (int s = 0; s < rows[b].length; s++) {
                ids[b * seq + s] = Math.toIntExact(rows[b][s]);
            }
        }
        return new TokenBatch(ids, len, rows.length, seq);
    }

    public long tokenCount() {
        long n = 0;
        for (int l : lengths) {
            n += l;
        }
        return n;
    }
}
