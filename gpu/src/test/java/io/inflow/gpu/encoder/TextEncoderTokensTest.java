package io.inflow.gpu.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.head.Head;
import io.inflow.gpu.head.HeadConfig;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.head.Heads;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.MiniLm;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.TokenBatch;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TextEncoder#encodeWithTokens}: per-token vectors come from the right rows and positions, one per non-padding
 * token, unit length, the pooled part unchanged, and a head applied to exactly the raw last-layer states.
 */
class TextEncoderTokensTest {
    /** Same row alone vs inside a wider padded batch: only float32 rounding differs (attention masks the padding). */
    static final double PADDING_ABS_TOL = 2e-5;
    /** Unit length after l2Normalize in float32. */
    static final double UNIT_TOL = 1e-5;
    /** Head applied inside the encoder vs applied afterwards to the downloaded raw states: same kernels, same inputs. */
    static final double HEAD_ABS_TOL = 1e-5;

    static final List<String> TEXTS = List.of("dog",
            "a member of the genus Canis that has been domesticated by man since prehistoric times",
            "the bark of a tree", "a river bank");

    static TextEncoder encoder;
    static ModelTokenizer tokenizer;
    BufferAllocator allocator;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws Exception {
        encoder = TextEncoder.create(TextEncoderConfig.builder().onnxResource(MiniLm.ONNX).threads(2)
                .backend(BackendKind.CPU).build());
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
    void closeAllocator() {
        allocator.close();
    }

    private TextEncoder.TokenEncoding tokens(TokenBatch tb, Head head, boolean normalize) {
        try (ArrowBuf idBuf = allocator.buffer(4L * tb.batch() * tb.seq());
             ArrowBuf lenBuf = allocator.buffer(4L * tb.batch())) {
            Tensor ids = Tensor.wrap(idBuf, DType.INT32, tb.batch(), tb.seq());
            Tensor len = Tensor.wrap(lenBuf, DType.INT32, tb.batch());
            ids.copyFrom(tb.ids());
            len.copyFrom(tb.lengths());
            return encoder.encodeWithTokens(ids, len, head, normalize);
        }
    }

    private float[] pooled(TokenBatch tb) {
        try (ArrowBuf idBuf = allocator.buffer(4L * tb.batch() * tb.seq());
             ArrowBuf lenBuf = allocator.buffer(4L * tb.batch())) {
            Tensor ids = Tensor.wrap(idBuf, DType.INT32, tb.batch(), tb.seq());
            Tensor len = Tensor.wrap(lenBuf, DType.INT32, tb.batch());
            ids.copyFrom(tb.ids());
            len.copyFrom(tb.lengths());
            return encoder.encode(ids, len);
        }
    }

    @Test
    void pooledEqualsEncodeAndOneUnitVectorPerToken() {
        TokenBatch tb = tokenizer.batch(TEXTS);
        TextEncoder.TokenEncoding e = tokens(tb, null, true);
        assertThat(e.pooled()).containsExactly(pooled(tb));
        assertThat(e.tokenDim()).isEqualTo(384);
        assertThat(e.offsets()).hasSize(TEXTS.size() + 1);
        for (int r = 0; r < TEXTS.size(); r++) {
            assertThat(e.offsets()[r + 1] - e.offsets()[r]).as("tokens of row %d", r)
                    .isEqualTo(tokenizer.ids(TEXTS.get(r)).length).isEqualTo(tb.lengths()[r]);
        }
        assertThat(e.tokens()).hasSize(e.offsets()[TEXTS.size()] * 384);
        for (int t = 0; t < e.offsets()[TEXTS.size()]; t++) {
            assertThat(norm(e.tokens(), t * 384, 384)).as("token %d", t).isCloseTo(1.0, within(UNIT_TOL));
        }
    }

    @Test
    void eachRowKeepsItsOwnTokensInsideAPaddedBatch() {
        TokenBatch batch = tokenizer.batch(TEXTS);        // row 1 is the longest: the others are padded
        TextEncoder.TokenEncoding all = tokens(batch, null, true);
        for (int r = 0; r < TEXTS.size(); r++) {
            TextEncoder.TokenEncoding alone = tokens(tokenizer.batch(List.of(TEXTS.get(r))), null, true);
            float[] expected = alone.tokens();
            float[] actual = Arrays.copyOfRange(all.tokens(), all.offsets()[r] * 384, all.offsets()[r + 1] * 384);
            assertThat(actual).as("row %d", r).hasSameSizeAs(expected);
            for (int i = 0; i < expected.length; i++) {
                assertThat((double) actual[i]).as("row %d value %d", r, i)
                        .isCloseTo(expected[i], within(PADDING_ABS_TOL));
            }
        }
        // contextual states: the same word in different rows is a different vector ("bark" vs "bank" rows' [CLS])
        assertThat(Arrays.copyOfRange(all.tokens(), all.offsets()[2] * 384, all.offsets()[2] * 384 + 384))
                .isNotEqualTo(Arrays.copyOfRange(all.tokens(), all.offsets()[3] * 384, all.offsets()[3] * 384 + 384));
    }

    @Test
    void rawTokensAreTheUnnormalisedStates() {
        TokenBatch tb = tokenizer.batch(TEXTS);
        TextEncoder.TokenEncoding raw = tokens(tb, null, false);
        TextEncoder.TokenEncoding unit = tokens(tb, null, true);
        assertThat(raw.offsets()).containsExactly(unit.offsets());
        assertThat(raw.pooled()).containsExactly(unit.pooled());
        int total = raw.offsets()[TEXTS.size()];
        for (int t = 0; t < total; t++) {
            double n = norm(raw.tokens(), t * 384, 384);
            assertThat(Math.abs(n - 1)).as("token %d is not unit length", t).isGreaterThan(0.1);
            for (int j = 0; j < 384; j++) {
                assertThat((double) raw.tokens()[t * 384 + j] / n).isCloseTo(unit.tokens()[t * 384 + j],
                        within(UNIT_TOL));
            }
        }
    }

    @Test
    void aHeadRunsOnTheRawStatesThenEachTokenIsNormalised() throws Exception {
        Random r = new Random(11);
        float[] up = new float[512 * 384];
        float[] down = new float[384 * 512];
        float[] b = new float[512];
        for (int i = 0; i < up.length; i++) {
            up[i] = (float) r.nextGaussian() * 0.05f;
            down[i] = (float) r.nextGaussian() * 0.05f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) r.nextGaussian() * 0.1f;
        }
        Path p = tmp.resolve("ffn.safetensors");
        SafetensorsWriter.writeF32(p, List.of(new WeightArray("ffn.up.weight", new int[] {512, 384}, up),
                new WeightArray("ffn.up.bias", new int[] {512}, b),
                new WeightArray("ffn.down.weight", new int[] {384, 512}, down)));
        HeadConfig config = HeadConfig.of(HeadType.FFN, p).withResidual(true);
        TokenBatch tb = tokenizer.batch(TEXTS);
        TextEncoder.TokenEncoding raw = tokens(tb, null, false);
        TextEncoder.TokenEncoding withHead;
        try (Head head = encoder.loadHead(config)) {
            withHead = tokens(tb, head, true);
        }
        int total = raw.offsets()[TEXTS.size()];
        float[] expected;
        try (Backend cpu = Backends.create(BackendKind.CPU, 1);
             Workspace ws = new Workspace(cpu);
             Head head = Heads.load(config, cpu, 384);
             Tensor x = cpu.upload(raw.tokens(), total, 384);
             Tensor out = cpu.allocate(DType.FLOAT32, total, 384)) {
            head.apply(cpu, x, out, ws);
            expected = out.toFloatArray();
        }
        assertThat(withHead.offsets()).containsExactly(raw.offsets());
        assertThat(withHead.pooled()).containsExactly(raw.pooled());   // the head is per token only
        for (int t = 0; t < total; t++) {
            double n = norm(expected, t * 384, 384);
            for (int j = 0; j < 384; j++) {
                assertThat((double) withHead.tokens()[t * 384 + j]).as("token %d value %d", t, j)
                        .isCloseTo(expected[t * 384 + j] / n, within(HEAD_ABS_TOL));
            }
        }
        // and the head changed something: not the plain normalised states
        TextEncoder.TokenEncoding plain = tokens(tb, null, true);
        assertThat(withHead.tokens()).isNotEqualTo(plain.tokens());
    }

    private static double norm(float[] v, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) v[off + i] * v[off + i];
        }
        return Math.sqrt(s);
    }
}
