package io.inflow.e2e.bench;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.encoder.TextEncoder;
import io.inflow.gpu.encoder.TextEncoderConfig;
import io.inflow.gpu.head.Head;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Texts through {@link TextEncoder#encodeWithTokens}: each text's pooled embedding and its per-token vectors, in the
 * texts' order (batches of 64 sorted by length, so padding stays small).
 *
 * <pre>{@code
 * try (TokenTexts t = TokenTexts.open(TextModel.ALL_MINILM_L6_V2)) {
 *     TokenTexts.Encoded e = t.encode(List.of("dog", "a domesticated canid"), null, true);
 * }
 * }</pre>
 */
final class TokenTexts implements AutoCloseable {
    /** Per text: pooled embedding (L2-normalised) and tokens {@code [tokenCount, dim]} row-major. */
    record Encoded(float[][] pooled, float[][] tokens, int dim) {
        int tokenCount(int i) {
            return tokens[i].length / dim;
        }
    }

    private final TextEncoder encoder;
    private final TextTokenizer tokenizer;
    private final BufferAllocator alloc = new RootAllocator();

    private TokenTexts(TextEncoder encoder, TextTokenizer tokenizer) {
        this.encoder = encoder;
        this.tokenizer = tokenizer;
    }

    /** The model's ONNX weights on the fast CPU backend (2 threads), its own pooling, normalised pooled vectors. */
    static TokenTexts open(TextModel model) throws Exception {
        TextEncoder enc = TextEncoder.create(TextEncoderConfig.builder().onnxResource(model.onnxResource())
                .modelName(model.modelName()).normalize(true).backend(BackendKind.CPU).threads(2).build());
        return new TokenTexts(enc, TextTokenizer.load(model, 256));
    }

    TextEncoder encoder() {
        return encoder;
    }

    /** {@code head} may be null (the last layer's states); {@code normalizeTokens} scales each token to unit length. */
    Encoded encode(List<String> texts, Head head, boolean normalizeTokens) {
        List<Tokenized> toks = texts.stream().map(tokenizer::encode).toList();
        Integer[] order = new Integer[texts.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt(i -> toks.get(i).ids().length));
        float[][] pooled = new float[texts.size()][];
        float[][] tokens = new float[texts.size()][];
        int dim = 0;
        for (int from = 0; from < order.length; from += 64) {
            int to = Math.min(order.length, from + 64);
            int b = to - from;
            int seq = toks.get(order[to - 1]).ids().length;
            int[] ids = new int[b * seq];
            int[] lens = new int[b];
            for (int i = 0; i < b; i++) {
                int[] t = toks.get(order[from + i]).ids();
                System.arraycopy(t, 0, ids, i * seq, t.length);
                lens[i] = t.length;
            }
            TextEncoder.TokenEncoding e;
            try (ArrowBuf idBuf = alloc.buffer(4L * b * seq); ArrowBuf lenBuf = alloc.buffer(4L * b)) {
                Tensor idt = Tensor.wrap(idBuf, DType.INT32, b, seq);
                Tensor lent = Tensor.wrap(lenBuf, DType.INT32, b);
                idt.copyFrom(ids);
                lent.copyFrom(lens);
                e = encoder.encodeWithTokens(idt, lent, head, normalizeTokens);
            }
            dim = e.tokenDim();
            int pd = e.pooled().length / b;
            for (int i = 0; i < b; i++) {
                pooled[order[from + i]] = Arrays.copyOfRange(e.pooled(), i * pd, (i + 1) * pd);
                tokens[order[from + i]] = Arrays.copyOfRange(e.tokens(), e.offsets()[i] * dim,
                        e.offsets()[i + 1] * dim);
            }
        }
        return new Encoded(pooled, tokens, dim);
    }

    @Override
    public void close() {
        encoder.close();
        tokenizer.close();
        alloc.close();
    }
}
