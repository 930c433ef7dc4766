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
 * them into one Arrow {@link TokenBatch} padded to the longest, and {@link EncoderCompute} (the process's shared
 * encoder, {@code SharedEncoders}) embeds the batch. Not thread-safe: one compute thread uses it.
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

    private TextEmbedder(TextTokenizer tokenizer, EncoderCompute compute, ArrowMemory.Child memory) {
        this.tokenizer = tokenizer;
        this.compute = compute;
        this.memory = memory;
    }

    /** Loads the tokenizer and leases the process's encoder for {@code settings.spec()}. */
    static TextEmbedder open(EmbeddingModelSettings settings, String name) throws Exception {
        TextTokenizer tokenizer = TextTokenizer.load(settings.spec().model(), settings.maxTokens());
        EncoderCompute compute = new EncoderCompute(settings.spec());
        ArrowMemory.Child memory = null;
        try {
            compute.open();
            memory = ArrowMemory.child(name, ArrowMemoryOptions.MAX_BYTES.defaultValue().getBytes());
            return new TextEmbedder(tokenizer, compute, memory);
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

    /** Tokenizes and embeds {@code texts} (none null) as one batch. */
    Result embed(List<String> texts) throws Exception {
        Tokenized[] tokens = new Tokenized[texts.size()];
        int seqLen = 1;
        int truncated = 0;
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = tokenizer.encode(texts.get(i));
            seqLen = Math.max(seqLen, tokens[i].length());
            truncated += tokens[i].truncated() ? 1 : 0;
        }
        try (TokenBatch batch = new TokenBatch(memory.allocator(), seqLen, tokens.length)) {
            for (Tokenized t : tokens) {
                batch.append(t.ids(), t.truncated());
            }
            BatchOutput out = compute.compute(batch);
            float[][] rows = new float[tokens.length][];
            for (int r = 0; r < rows.length; r++) {
                float[] v = out.row(r);
                rows[r] = finite(v) ? v : null;
            }
            return new Result(rows, batch.realTokens(), batch.paddedTokens(), truncated);
        }
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
