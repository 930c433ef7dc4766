package io.inflow.sql;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.operators.batch.BatchingConfig;

import org.apache.arrow.memory.BufferAllocator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Splits a micro-batch of tokenized texts into sub-batches of similar length, as the DataStream pipeline's batcher
 * groups texts ({@link BatchingConfig#defaults()}: length buckets 16..256, at most 8,192 padded tokens per batch), so
 * a few long texts do not pad every short one to their length. Each group becomes one Arrow {@link TokenBatch}
 * padded to its longest row.
 *
 * <pre>{@code
 * for (LengthGroups.Group g : LengthGroups.of(tokens, 256)) {
 *     try (TokenBatch batch = g.batch(allocator, tokens)) {
 *         ... // row r of the batch is text g.rows()[r]
 *     }
 * }
 * }</pre>
 */
final class LengthGroups {

    private static final BatchingConfig GROUPING = BatchingConfig.defaults();
    private static final int[] BUCKETS = GROUPING.buckets();

    /**
     * One sub-batch.
     *
     * @param rows the texts' positions in the micro-batch, shortest first
     * @param seqLen its longest text's tokens
     */
    record Group(int[] rows, int seqLen) {
        /** The group's texts as an Arrow batch padded to {@link #seqLen}. */
        TokenBatch batch(BufferAllocator allocator, Tokenized[] tokens) {
            TokenBatch batch = new TokenBatch(allocator, seqLen, rows.length);
            try {
                for (int r : rows) {
                    batch.append(tokens[r].ids(), tokens[r].truncated());
                }
                return batch;
            } catch (RuntimeException | Error e) {
                batch.close();
                throw e;
            }
        }
    }

    private LengthGroups() {
    }

    /**
     * A micro-batch's texts, tokenized.
     *
     * @param tokens one per text, in order
     * @param truncated texts cut to the tokenizer's limit
     */
    record Texts(Tokenized[] tokens, int truncated) {
        /** Tokenizes {@code texts} (none null) with the model's tokenizer (truncating to its limit). */
        static Texts tokenize(TextTokenizer tokenizer, List<String> texts) {
            Tokenized[] tokens = new Tokenized[texts.size()];
            int truncated = 0;
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = tokenizer.encode(texts.get(i));
                truncated += tokens[i].truncated() ? 1 : 0;
            }
            return new Texts(tokens, truncated);
        }
    }

    /**
     * @param maxTokens the tokenizer's limit: texts past the last bucket are grouped up to it
     */
    static List<Group> of(Tokenized[] tokens, int maxTokens) {
        int n = tokens.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt(i -> tokens[i].length()));
        List<Group> groups = new ArrayList<>();
        for (int start = 0; start < n; ) {
            int limit = bucketLength(tokens[order[start]].length(), maxTokens);
            int maxRows = Math.max(1, GROUPING.maxTokens() / limit);
            int end = start;
            int seqLen = 1;
            while (end < n && end - start < maxRows && tokens[order[end]].length() <= limit) {
                seqLen = Math.max(seqLen, tokens[order[end]].length());
                end++;
            }
            int[] rows = new int[end - start];
            for (int k = start; k < end; k++) {
                rows[k - start] = order[k];
            }
            groups.add(new Group(rows, seqLen));
            start = end;
        }
        return groups;
    }

    /** The DataStream batcher's bucket for a text of {@code length} tokens; past the last bucket, the token limit. */
    private static int bucketLength(int length, int maxTokens) {
        for (int b : BUCKETS) {
            if (length <= b) {
                return b;
            }
        }
        return Math.max(length, maxTokens);
    }
}
