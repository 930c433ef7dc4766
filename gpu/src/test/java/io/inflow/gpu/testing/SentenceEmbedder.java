package io.inflow.gpu.testing;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.encoder.TextEncoder;
import io.inflow.gpu.encoder.TextEncoderConfig;
import io.inflow.gpu.pooling.PoolingConfig;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.RootAllocator;

/**
 * Texts to pooled embeddings as the pipeline computes them: {@link TextTokenizer} (truncating to {@code maxTokens})
 * then {@link TextEncoder} on the fast CPU backend, fed through Arrow buffers. Texts are encoded in batches of
 * {@value #BATCH} in order of token count (less padding), and returned in input order.
 *
 * <pre>{@code
 * try (SentenceEmbedder e = SentenceEmbedder.create(TextModel.ALL_MINILM_L6_V2, PoolingMode.MEAN, true, 128, 2)) {
 *     float[] rows = e.embed(List.of("Cheap meds!!!", "Meeting at 3"));   // [2, 384] row-major
 * }
 * }</pre>
 */
public final class SentenceEmbedder implements AutoCloseable {
    public static final int BATCH = 32;
    private final TextTokenizer tokenizer;
    private final TextEncoder encoder;
    private final RootAllocator allocator = new RootAllocator();
    private int truncated;

    private SentenceEmbedder(TextTokenizer tokenizer, TextEncoder encoder) {
        this.tokenizer = tokenizer;
        this.encoder = encoder;
    }

    public static SentenceEmbedder create(TextModel model, PoolingMode pooling, boolean normalize, int maxTokens,
            int threads) throws IOException {
        TextTokenizer tokenizer = TextTokenizer.load(model, maxTokens);
        try {
            return new SentenceEmbedder(tokenizer, TextEncoder.create(TextEncoderConfig.builder()
                    .onnxResource(model.onnxResource()).modelName(model.modelName())
                    .pooling(PoolingConfig.of(pooling)).normalize(normalize)
                    .backend(BackendKind.CPU).threads(threads).maxSequenceLength(maxTokens).build()));
        } catch (IOException | RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /** Width of one embedding. */
    public int dimension() {
        return encoder.dimension();
    }

    /** How many of the texts embedded so far were cut at the token limit. */
    public int truncated() {
        return truncated;
    }

    /** {@code [texts.size(), dimension()]} row-major, row i for text i. */
    public float[] embed(List<String> texts) {
        Tokenized[] tokens = texts.stream().map(tokenizer::encode).toArray(Tokenized[]::new);
        for (Tokenized t : tokens) {
            truncated += t.truncated() ? 1 : 0;
        }
        int[] order = IntStream.range(0, tokens.length).boxed()
                .sorted(Comparator.comparingInt((Integer i) -> tokens[i].length()).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).toArray();
        int dim = encoder.dimension();
        float[] out = new float[texts.size() * dim];
        for (int start = 0; start < order.length; start += BATCH) {
            int[] rows = java.util.Arrays.copyOfRange(order, start, Math.min(order.length, start + BATCH));
            float[] batch = encode(rows, tokens);
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(batch, i * dim, out, rows[i] * dim, dim);
            }
        }
        return out;
    }

    private float[] encode(int[] rows, Tokenized[] tokens) {
        int seq = 1;
        for (int r : rows) {
            seq = Math.max(seq, tokens[r].length());
        }
        int[] ids = new int[rows.length * seq];
        int[] lengths = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            int[] t = tokens[rows[i]].ids();
            System.arraycopy(t, 0, ids, i * seq, t.length);
            lengths[i] = t.length;
        }
        try (ArrowBuf idBuf = allocator.buffer(4L * ids.length); ArrowBuf lenBuf = allocator.buffer(4L * rows.length)) {
            Tensor idt = Tensor.wrap(idBuf, DType.INT32, rows.length, seq);
            Tensor lent = Tensor.wrap(lenBuf, DType.INT32, rows.length);
            idt.copyFrom(ids);
            lent.copyFrom(lengths);
            return encoder.encode(idt, lent);
        }
    }

    @Override
    public void close() {
        encoder.close();
        tokenizer.close();
        allocator.close();
    }
}
