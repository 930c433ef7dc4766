package io.inflow.sql;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.operators.batch.BatchingConfig;
import io.inflow.operators.embed.BatchOutput;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.operators.runtime.ArrowMemory;
import io.inflow.operators.runtime.ArrowMemoryOptions;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The DataStream pipeline's text compute for a list of texts: the model's tokenizer (truncating to the limit) packs
 * them into Arrow {@link TokenBatch}es grouped by length (the pipeline's length buckets), and {@link EncoderCompute}
 * (the process's shared encoder, {@code SharedEncoders}) embeds each. Not thread-safe: one compute thread uses it.
 *
 * <pre>{@code
 * try (TextEmbedder e = TextEmbedder.open(settings, "ml-predict-0")) {
 *     TextEmbedder.Result r = e.embed(List.of("A man is eating food."));
 *     float[] v = r.embeddings()[0];
 * }
 * }</pre>
 */
final class TextEmbedder implements AutoCloseable {

    /**
     * One batch's answers.
     *
     * @param embeddings one per text; null where the text's vector was not finite
     * @param truncated texts cut to the token limit
     */
    record Result(float[][] embeddings, long realTokens, long paddedTokens, int truncated) {
    }

    private final TextTokenizer tokenizer;
    private final EncoderCompute compute;
    private final ArrowMemory.Child memory;
    private final int maxTokens;

    /** The DataStream pipeline's default batching: its length buckets and padded-token bound group the rows. */
    private static final BatchingConfig GROUPING = BatchingConfig.defaults();
    private static final int[] BUCKETS = GROUPING.buckets();

    private TextEmbedder(TextTokenizer tokenizer, EncoderCompute compute, ArrowMemory.Child memory, int maxTokens) {
        this.tokenizer = tokenizer;
        this.compute = compute;
        this.memory = memory;
        this.maxTokens = maxTokens;
    }

    /** Loads the tokenizer and leases the process's encoder for {@code settings.spec()}. */
    static TextEmbedder open(EmbeddingModelSettings settings, String name) throws Exception {
        TextTokenizer tokenizer = TextTokenizer.load(settings.spec().model(), settings.maxTokens());
        EncoderCompute compute = new EncoderCompute(settings.spec());
        ArrowMemory.Child memory = null;
        try {
            compute.open();
            memory = ArrowMemory.child(name, ArrowMemoryOptions.MAX_BYTES.defaultValue().getBytes());
            return new TextEmbedder(tokenizer, compute, memory, settings.maxTokens());
        } catch (Exception | Error e) {
            tokenizer.close();
            compute.close();
            if (memory != null) {
                memory.close();
            }
            throw e;
        }
    }

    /** The encoder backend's name ({@code cpu-fast}, {@code cuda}), the metrics' {@code backend} label. */
    String backend() {
        return compute.backend();
    }

    /** What the metrics' {@code version} label says: the weights' origin, pooling and normalisation. */
    String version() {
        return compute.model().version();
    }

    /**
     * Tokenizes {@code texts} (none null) and embeds them. Rows are grouped by length as the DataStream pipeline's
     * batcher groups them ({@link BatchingConfig#defaults()}: the length buckets 16..256, at most
     * {@code maxTokens} padded tokens per sub-batch), so a few long texts do not pad every short one to their
     * length; each group is one Arrow {@link TokenBatch} padded to its longest row.
     */
    Result embed(List<String> texts) throws Exception {
        int n = texts.size();
        Tokenized[] tokens = new Tokenized[n];
        int truncated = 0;
        for (int i = 0; i < n; i++) {
            tokens[i] = tokenizer.encode(texts.get(i));
            truncated += tokens[i].truncated() ? 1 : 0;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt(i -> tokens[i].length()));
        float[][] rows = new float[n][];
        long real = 0;
        long padded = 0;
        for (int start = 0; start < n; ) {
            int limit = bucketLength(tokens[order[start]].length());
            int maxRows = Math.max(1, Math.min(n, GROUPING.maxTokens() / limit));
            int end = start;
            int seqLen = 1;
            while (end < n && end - start < maxRows && tokens[order[end]].length() <= limit) {
                seqLen = Math.max(seqLen, tokens[order[end]].length());
                end++;
            }
            try (TokenBatch batch = new TokenBatch(memory.allocator(), seqLen, end - start)) {
                for (int k = start; k < end; k++) {
                    batch.append(tokens[order[k]].ids(), tokens[order[k]].truncated());
                }
                BatchOutput out = compute.compute(batch);
                for (int k = start; k < end; k++) {
                    float[] v = out.row(k - start);
                    rows[order[k]] = finite(v) ? v : null;
                }
                real += batch.realTokens();
                padded += batch.paddedTokens();
            }
            start = end;
        }
        return new Result(rows, real, padded, truncated);
    }

    /** The DataStream batcher's bucket for a text of {@code length} tokens; past the last bucket, the token limit. */
    private int bucketLength(int length) {
        for (int b : BUCKETS) {
            if (length <= b) {
                return b;
            }
        }
        return Math.max(length, maxTokens);
    }

    private static boolean finite(float[] v) {
        for (float x : v) {
            if (!Float.isFinite(x)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws Exception {
        try {
            compute.close();
            tokenizer.close();
        } finally {
            memory.close();
        }
    }
}
