package io.inflow.gpu.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.pooling.PoolingConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.MiniLm;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.TokenBatch;
import io.inflow.gpu.testing.Vectors;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The pipeline entry point: Arrow-backed inputs, padding invariance, edge batches, errors, memory. */
class TextEncoderTest {
    /** Fast vs reference encoder: six layers of float32 kernels with different summation order. */
    static final double ENCODER_ABS_TOL = 2e-4;
    static final double ENCODER_REL_TOL = 2e-3;
    /** Same model, same input, different padding width: padding must not change valid rows beyond rounding. */
    static final double PADDING_COSINE = 0.999999;

    static TextEncoder encoder;
    static ModelTokenizer tokenizer;
    BufferAllocator allocator;

    @BeforeAll
    static void load() throws Exception {
        encoder = TextEncoder.create(TextEncoderConfig.builder().onnxResource(MiniLm.ONNX).threads(2).build());
        tokenizer = ModelTokenizer.fromResource(MiniLm.TOKENIZER, 256);
    }

    @AfterAll
    static void unload() {
        encoder.close();
        tokenizer.close();
    }

    @BeforeEach
    void openAllocator() {
        allocator = new RootAllocator();
    }

    @AfterEach
    void closeAllocatorFailsOnLeaks() {
        allocator.close();
    }

    private float[] encodeArrow(int[] ids, int[] lengths, int batch, int seq) {
        try (ArrowBuf idBuf = allocator.buffer(4L * batch * seq); ArrowBuf lenBuf = allocator.buffer(4L * batch)) {
            Tensor idt = Tensor.wrap(idBuf, DType.INT32, batch, seq);
            Tensor lent = Tensor.wrap(lenBuf, DType.INT32, batch);
            idt.copyFrom(ids);
            lent.copyFrom(lengths);
            return encoder.encode(idt, lent);
        }
    }

    @Test
    void describesItself() {
        assertThat(encoder.modelName()).isEqualTo("all-minilm-l6-v2");
        assertThat(encoder.dimension()).isEqualTo(384);
        assertThat(encoder.maxSequenceLength()).isEqualTo(256);
    }

    @Test
    void extraPaddingColumnsDoNotChangeTheEmbedding() {
        long[] row = tokenizer.ids("Padding must not matter.");
        TokenBatch tight = TokenBatch.of(new long[][] {row});
        float[] a = encodeArrow(tight.ids(), tight.lengths(), 1, tight.seq());
        int wide = 64;
        int[] padded = new int[wide];
        for (int i = 0; i < row.length; i++) {
            padded[i] = (int) row[i];
        }
        float[] b = encodeArrow(padded, tight.lengths(), 1, wide);
        assertThat(b).containsExactly(a);     // trimmed to the longest row before the forward pass
    }

    @Test
    void batchingWithLongerRowsKeepsEachRow() {
        List<String> texts = List.of("short", "a somewhat longer sentence with many more tokens in it than the first");
        TokenBatch both = tokenizer.batch(texts);
        float[] batched = OrtParityTest.encode(encoder, both, allocator);
        TokenBatch alone = tokenizer.batch(texts.subList(0, 1));
        float[] single = OrtParityTest.encode(encoder, alone, allocator);
        assertThat(Vectors.cosine(batched, 0, single, 0, 384)).isGreaterThanOrEqualTo(PADDING_COSINE);
    }

    @Test
    void edgeBatches() {
        // batch of 1 with sequence length 1 (a lone token), and a row of all padding except one token
        float[] one = encodeArrow(new int[] {101}, new int[] {1}, 1, 1);
        assertThat(one).hasSize(384).doesNotContain(Float.NaN);
        float[] mixed = encodeArrow(new int[] {101, 2003, 102, 101, 0, 0}, new int[] {3, 1}, 2, 3);
        assertThat(java.util.Arrays.copyOfRange(mixed, 384, 768)).containsExactly(one);
    }

    @Test
    void encodeToTensorReturnsAnOwnedTensor() {
        TokenBatch tb = tokenizer.batch(List.of("hello world", "bye"));
        try (Backend b = Backends.create(BackendKind.CPU, 1, allocator);
             Tensor ids = b.upload(tb.ids(), tb.batch(), tb.seq());
             Tensor len = b.upload(tb.lengths(), tb.batch());
             Tensor out = encoder.encodeToTensor(ids, len)) {
            assertThat(out.shape()).containsExactly(2, 384);
            assertThat(out.ownsMemory()).isTrue();
            assertThat(out.toFloatArray()).containsExactly(encoder.encode(ids, len));
        }
    }

    @Test
    void rejectsBadInputWithClearMessages() {
        assertThatThrownBy(() -> encodeArrow(new int[] {101, 102}, new int[] {0}, 1, 2))
                .hasMessageContaining("lengths[0] = 0").hasMessageContaining("[1, 2]");
        assertThatThrownBy(() -> encodeArrow(new int[] {101, 102}, new int[] {3}, 1, 2))
                .hasMessageContaining("lengths[0] = 3");
        assertThatThrownBy(() -> encodeArrow(new int[] {101, 99999}, new int[] {2}, 1, 2))
                .hasMessageContaining("token id 99999").hasMessageContaining("30522");
        assertThatThrownBy(() -> encodeArrow(new int[300], fill(1, 1), 1, 300))
                .hasMessageContaining("sequence length 300 exceeds maxSequenceLength 256");
    }

    @Test
    void normalisedAndMultiLayerVariants() throws Exception {
        TokenBatch tb = tokenizer.batch(List.of("A man is eating food.", "x"));
        try (TextEncoder norm = TextEncoder.create(TextEncoderConfig.builder().onnxResource(MiniLm.ONNX).threads(2)
                .normalize(true).build());
             TextEncoder lastLayerOnly = TextEncoder.create(TextEncoderConfig.builder().onnxResource(MiniLm.ONNX)
                     .threads(2).pooling(PoolingConfig.multiLayerMean(0, 0, 0, 0, 0, 3)).build())) {
            float[] n = OrtParityTest.encode(norm, tb, allocator);
            double sq = 0;
            for (int i = 0; i < 384; i++) {
                sq += n[i] * n[i];
            }
            assertThat(Math.sqrt(sq)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            float[] plain = OrtParityTest.encode(encoder, tb, allocator);
            float[] multi = OrtParityTest.encode(lastLayerOnly, tb, allocator);
            assertThat(Vectors.firstMismatch(multi, plain, 1e-6, 1e-6)).isEqualTo(-1);   // weight on the last layer only = mean
        }
    }

    @Test
    void fastEncoderMatchesReferenceEncoder() throws Exception {
        BertConfig c = MiniLm.weights().inferConfig();
        TokenBatch tb = tokenizer.batch(List.of("The cat sat.", "Der Zug hat Verspätung 🚆", "Ok"));
        float[][] hidden = new float[2][];
        Backend[] backends = {Backends.reference(), Backends.create(BackendKind.CPU, 2)};
        for (int i = 0; i < 2; i++) {
            try (Backend b = backends[i];
                 BertWeights w = BertWeights.load(MiniLm.weights(), c, b);
                 BertEncoder enc = new BertEncoder(b, c, w);
                 Tensor ids = b.upload(tb.ids(), tb.batch(), tb.seq());
                 Tensor len = b.upload(tb.lengths(), tb.batch())) {
                Tensor h = enc.forward(ids, len, null);
                hidden[i] = h.toFloatArray();
            }
        }
        int d = c.hidden();
        for (int r = 0; r < tb.batch(); r++) {
            for (int s = 0; s < tb.lengths()[r]; s++) {
                int off = (r * tb.seq() + s) * d;
                float[] fast = java.util.Arrays.copyOfRange(hidden[1], off, off + d);
                float[] ref = java.util.Arrays.copyOfRange(hidden[0], off, off + d);
                assertThat(Vectors.firstMismatch(fast, ref, ENCODER_ABS_TOL, ENCODER_REL_TOL))
                        .as("row %d position %d, max abs diff %s", r, s, Vectors.maxAbsDiff(fast, ref)).isEqualTo(-1);
            }
        }
    }

    private static int[] fill(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
