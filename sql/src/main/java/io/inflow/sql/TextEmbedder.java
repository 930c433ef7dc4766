package io.inflow.sql;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.operators.embed.BatchOutput;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.operators.runtime.ArrowMemory;
import io.inflow.operators.runtime.ArrowMemoryOptions;

import java.util.List;

/**
 * The DataStream pipeline's text compute for a list of texts: the model's tokenizer (truncating to the limit) packs
 * them into Arrow {@link TokenBatch}es grouped by length ({@link LengthGroups}), and {@link EncoderCompute}
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
     * Tokenizes {@code texts} (none null) and embeds them, in sub-batches of similar length ({@link LengthGroups}:
     * the DataStream batcher's buckets), so a few long texts do not pad every short one to their length.
     */
    Result embed(List<String> texts) throws Exception {
        int n = texts.size();
        LengthGroups.Texts tokenized = LengthGroups.Texts.tokenize(tokenizer, texts);
        Tokenized[] tokens = tokenized.tokens();
        int truncated = tokenized.truncated();
        float[][] rows = new float[n][];
        long real = 0;
        long padded = 0;
        for (LengthGroups.Group g : LengthGroups.of(tokens, maxTokens)) {
            try (TokenBatch batch = g.batch(memory.allocator(), tokens)) {
                BatchOutput out = compute.compute(batch);
                for (int k = 0; k < g.rows().length; k++) {
                    float[] v = out.row(k);
                    rows[g.rows()[k]] = finite(v) ? v : null;
                }
                real += batch.realTokens();
                padded += batch.paddedTokens();
            }
        }
        return new Result(rows, real, padded, truncated);
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
