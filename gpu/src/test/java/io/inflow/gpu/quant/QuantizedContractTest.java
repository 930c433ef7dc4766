package io.inflow.gpu.quant;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cpu.ReferenceCpuBackend;
import io.inflow.gpu.model.safetensors.SafetensorsWeights;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.RandomBert;
import io.inflow.gpu.testing.TokenBatch;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link QuantizedOps} contract, written once: every backend must produce exactly the integers of the reference
 * ({@code QuantizedReference}), op by op on seeded random inputs with the ggml size list (sizes that are not
 * multiples of any tile or vector width), at the extremes of the exactness bounds, and for a whole quantized BERT.
 * Subclasses give the backend under test. Arithmetic is integer: no tolerance, bit for bit. Inputs and results move
 * through the backend's memory ({@code copy}, {@code downloadInts}), so device backends run the same cases.
 */
public abstract class QuantizedContractTest {
    static final int[] SIZES = {1, 2, 3, 5, 7, 15, 16, 17, 31, 33};
    static final long SEED = 20261202L;

    Backend ref;
    Backend under;

    protected abstract Backend create();

    @BeforeEach
    protected void open() {
        ref = new ReferenceCpuBackend(null);
        under = create();
    }

    @AfterEach
    protected void close() {
        if (under != null) {        // null when create() skipped the class (no device)
            under.close();
        }
        ref.close();
    }

    @Test
    protected void linearEqualsReferenceOnEverySize() {
        Random rnd = new Random(SEED);
        for (int m : SIZES) {
            for (int k : new int[] {1, 7, 33, 384, 1030, 2100}) {
                int n = SIZES[rnd.nextInt(SIZES.length)] + 3;
                Int8Linear w = randomLinear(rnd, n, k);
                for (Requant.Output out : Requant.Output.values()) {
                    Requant r = randomRequant(rnd, n, out);
                    byte[] x = randomBytes(rnd, m * k, 127);
                    assertSame("linear m=" + m + " k=" + k + " n=" + n + " " + out,
                            (b, o) -> b.quantized().linear(in(b, x, m, k), w, r, o), outType(out), m,
                            out == Requant.Output.INT16 ? n : n);
                }
            }
        }
    }

    @Test
    void linearIsExactAtTheBoundOfTheFloatChunks() {
        // every product at its largest: 127 * 127 summed over k crosses 2^24 inside a chunk if chunks were longer
        for (int k : new int[] {1024, 1040, 1041, 1536, 3000}) {
            int m = 3;
            int n = 5;
            byte[] wq = new byte[n * k];
            Arrays.fill(wq, (byte) 127);
            for (int i = 0; i < k; i += 2) {
                wq[k + i] = (byte) -127;            // row 1 alternates signs
            }
            Int8Linear w = new Int8Linear(n, k, wq, new int[n], ones(n), 1f);
            byte[] x = new byte[m * k];
            Arrays.fill(x, (byte) -127);
            Requant identity = Requant.uniform(Dyadic.ONE, n, Requant.Output.INT32);
            int[] got = run(under, (b, o) -> b.quantized().linear(in(b, x, m, k), w, identity, o), DType.INT32, m, n);
            assertThat(got[0]).as("k=" + k).isEqualTo(-127 * 127 * k);
            assertThat(got).isEqualTo(run(ref, (b, o) -> b.quantized().linear(in(b, x, m, k), w, identity, o),
                    DType.INT32, m, n));
        }
    }

    @Test
    void wideLinearEqualsReference() {
        Random rnd = new Random(SEED + 1);
        for (int m : SIZES) {
            int k = new int[] {3, 33, 1536, 1100}[m % 4];
            int n = 1 + rnd.nextInt(40);
            Int8Linear w = randomLinear(rnd, n, k);
            Requant r = Requant.uniform(Dyadic.of(1e-5 * (1 + rnd.nextDouble()), 24), n, Requant.Output.INT32);
            byte[] x = randomBytes(rnd, m * 2 * k, 127);
            assertSame("wide m=" + m + " k=" + k, (b, o) -> b.quantized().linearWide(in(b, x, m, 2 * k), w, r, o),
                    DType.INT32, m, n);
        }
    }

    @Test
    void attentionEqualsReference() {
        Random rnd = new Random(SEED + 2);
        for (int seq : new int[] {1, 2, 5, 17, 33, 70, 530}) {   // 530: past the float path's EXACT_SEQ
            int batch = 1 + rnd.nextInt(3);
            int heads = 1 + rnd.nextInt(3);
            int dh = SIZES[rnd.nextInt(SIZES.length)];
            int d = heads * dh;
            int[] lengths = new int[batch];
            for (int b = 0; b < batch; b++) {
                lengths[b] = 1 + rnd.nextInt(seq);
            }
            lengths[0] = seq;
            byte[] qkv = randomBytes(rnd, batch * seq * 3 * d, 127);
            Dyadic score = Dyadic.of(0.5 + rnd.nextDouble() * 8, 31);
            for (Requant.Output out : new Requant.Output[] {Requant.Output.INT8, Requant.Output.INT32}) {
                Requant ctx = randomRequant(rnd, d, out);
                assertSame("attention seq=" + seq + " batch=" + batch + " heads=" + heads + " dh=" + dh,
                        (b, o) -> {
                            try (Tensor len = b.upload(lengths, batch)) {
                                b.quantized().attention(in(b, qkv, batch * seq, 3 * d), len, batch, seq, heads, score,
                                        ctx, o);
                            }
                        }, outType(out), batch * seq, d);
            }
        }
    }

    @Test
    protected void layerNormEqualsReference() {
        Random rnd = new Random(SEED + 3);
        for (int t : SIZES) {
            int d = new int[] {1, 2, 7, 33, 384}[t % 5];
            float[] gamma = new float[d];
            float[] beta = new float[d];
            float[] scales = new float[d];
            for (int j = 0; j < d; j++) {
                gamma[j] = (float) (rnd.nextGaussian() * 2);
                beta[j] = (float) rnd.nextGaussian();
                scales[j] = (float) (0.01 + rnd.nextDouble() * 0.1);
            }
            IntLayerNorm ln = IntLayerNorm.of(gamma, beta, scales);
            int[] x = new int[t * d];
            int[] res = new int[t * d];
            for (int i = 0; i < x.length; i++) {
                x[i] = rnd.nextInt(1 << 20) - (1 << 19);
                res[i] = rnd.nextInt(1 << 16) - (1 << 15);
            }
            x[0] = Integer.MAX_VALUE;                          // saturates at RESIDUAL_LIMIT
            if (t > 1) {
                Arrays.fill(x, d, 2 * d, 77);                  // a constant row
                Arrays.fill(res, d, 2 * d, 0);
            }
            assertSame("layerNorm int8 t=" + t + " d=" + d, (b, o) -> {
                try (Tensor xi = b.upload(x, t, d); Tensor ri = b.upload(res, t, d)) {
                    b.quantized().layerNorm(xi, ri, ln, o, null);
                }
            }, DType.INT8, t, d);
            assertSame("layerNorm residual t=" + t + " d=" + d, (b, o) -> {
                try (Tensor xi = b.upload(x, t, d)) {
                    b.quantized().layerNorm(xi, null, ln, null, o);
                }
            }, DType.INT32, t, d);
        }
    }

    @Test
    void geluEqualsReferenceForEveryOutputType() {
        Random rnd = new Random(SEED + 4);
        for (int t : SIZES) {
            int f = SIZES[rnd.nextInt(SIZES.length)] * 3;
            int[] x = new int[t * f];
            for (int i = 0; i < x.length; i++) {
                x[i] = (int) (rnd.nextGaussian() * 4096);
            }
            x[0] = Integer.MIN_VALUE;
            if (x.length > 1) {
                x[1] = Integer.MAX_VALUE;
            }
            for (Requant.Output out : Requant.Output.values()) {
                Requant r = Requant.uniform(Dyadic.of(out == Requant.Output.INT16 ? 2e-4 : 1e-6, 24), f, out);
                int cols = out == Requant.Output.INT16 ? 2 * f : f;
                assertSame("gelu t=" + t + " f=" + f + " " + out, (b, o) -> {
                    try (Tensor xi = b.upload(x, t, f)) {
                        b.quantized().gelu(xi, r, o);
                    }
                }, outType(out), t, cols);
            }
        }
    }

    @Test
    void embedEqualsReferenceWithAndWithoutTokenTypes() {
        Random rnd = new Random(SEED + 6);
        int d = 33;
        float[] words = new float[50 * d];
        float[] positions = new float[40 * d];
        float[] types = new float[2 * d];
        for (float[] t : List.of(words, positions, types)) {
            for (int i = 0; i < t.length; i++) {
                t[i] = (float) (rnd.nextGaussian() * 0.1);
            }
        }
        Int8Embedding w = Int8Embedding.quantize(words, 50, d);
        Int8Embedding p = Int8Embedding.quantize(positions, 40, d);
        Int8Embedding ty = Int8Embedding.quantize(types, 2, d);
        for (int s : new int[] {1, 7, 33, 40}) {
            int b = 3;
            int[] ids = new int[b * s];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = rnd.nextInt(50);
            }
            for (Int8Embedding type : java.util.Arrays.asList(ty, null)) {
                assertSame("embed s=" + s + (type == null ? " no types" : ""), (be, o) -> {
                    try (Tensor idT = be.upload(ids, b, s)) {
                        be.quantized().embed(idT, w, p, type, o);
                    }
                }, DType.INT32, b * s, d);
            }
        }
    }

    @Test
    void wholeQuantizedBertEqualsReference(@TempDir Path tmp) throws Exception {
        RandomBert shape = new RandomBert(2, 48, 4, 96, 1300, 64);
        Path dir = shape.write(tmp.resolve("bert"), 11);
        Random rnd = new Random(SEED + 5);
        TokenBatch calib = shape.tokens(rnd, new int[] {40, 7, 23, 64});
        TokenBatch batch = shape.tokens(rnd, new int[] {1, 17, 64, 33, 5});
        try (SafetensorsWeights w = SafetensorsWeights.open(dir)) {
            Int8Bert qRef = BertQuantizer.quantize(w, w.bertConfig(), calib.ids(), calib.lengths(), calib.batch(),
                    calib.seq(), ref, CalibrationOptions.defaults(), null);
            Int8Bert qUnder = BertQuantizer.quantize(w, w.bertConfig(), calib.ids(), calib.lengths(), calib.batch(),
                    calib.seq(), under, CalibrationOptions.defaults(), null);
            assertThat(qUnder.calibration()).as("calibration sees the same integers").isEqualTo(qRef.calibration());
            int[] a = forward(ref, qRef, batch);
            int[] b = forward(under, qRef, batch);
            assertThat(b).isEqualTo(a);
            assertThat(Arrays.stream(a).filter(v -> v != 0).count()).as("non-trivial output").isGreaterThan(a.length / 2);
        }
    }

    @Test
    void quantizeFollowsItsDefinitionAndEqualsReference() {
        // the definition on exact cases (scale 0.25, inverse 4): floor(4x + 0.5) saturated, NaN to 0
        float[] x = {0f, -0f, 0.125f, -0.125f, 0.375f, -0.375f, 31.75f, 31.875f, -31.875f, -40f, Float.NaN,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MIN_VALUE, 0.1f};
        int[] expected = {0, 0, 1, 0, 2, -1, 127, 127, -127, -127, 0, 127, -127, 127, 0, 0};
        assertThat(run(under, (b, o) -> {
            try (Tensor xi = b.upload(x, x.length)) {
                b.quantized().quantize(xi, 0.25f, o);
            }
        }, DType.INT8, 1, x.length)).as("quantize at scale 0.25").containsExactly(expected);
        Random rnd = new Random(SEED + 6);
        for (int n : new int[] {1, 2, 3, 5, 7, 15, 16, 17, 31, 33, 784, 20_000, 100_003}) {
            float scale = (float) (0.001 + rnd.nextDouble() * 0.05);
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = switch (i % 4) {
                    case 0 -> (float) (rnd.nextGaussian() * 80 * scale);            // some saturate
                    case 1 -> (rnd.nextInt(301) - 150 + 0.5f) * scale;               // about half-way between steps
                    case 2 -> Math.nextUp((rnd.nextInt(255) - 127 + 0.5f) * scale);
                    default -> (float) ((rnd.nextDouble() * 2 - 1) * 127 * scale);
                };
            }
            assertSame("quantize n=" + n + " scale=" + scale, (b, o) -> {
                try (Tensor xi = b.upload(v, n)) {
                    b.quantized().quantize(xi, scale, o);
                }
            }, DType.INT8, 1, n);
        }
    }

    @Test
    void addSaturatesAndEqualsReference() {
        int[] a = {1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE, 1 << 30};
        int[] b = {2, -5, 1, -1, Integer.MIN_VALUE, 1 << 30};
        assertThat(run(under, (be, o) -> {
            try (Tensor ai = be.upload(a, 2, 3); Tensor bi = be.upload(b, 2, 3)) {
                be.quantized().add(ai, bi, o);
            }
        }, DType.INT32, 2, 3)).containsExactly(3, -6, Integer.MAX_VALUE, Integer.MIN_VALUE, -1, Integer.MAX_VALUE);
        Random rnd = new Random(SEED + 7);
        for (int n : new int[] {1, 2, 3, 5, 7, 15, 16, 17, 31, 33, 6272, 100_003}) {
            int[] x = new int[n];
            int[] y = new int[n];
            for (int i = 0; i < n; i++) {
                x[i] = i % 5 == 0 ? rnd.nextInt() : rnd.nextInt(1 << 24) - (1 << 23);
                y[i] = i % 7 == 0 ? rnd.nextInt() : rnd.nextInt(1 << 24) - (1 << 23);
            }
            assertSame("add n=" + n, (be, o) -> {
                try (Tensor xi = be.upload(x, n); Tensor yi = be.upload(y, n)) {
                    be.quantized().add(xi, yi, o);
                }
            }, DType.INT32, 1, n);
            assertSame("add in place n=" + n, (be, o) -> {
                try (Tensor yi = be.upload(y, n); Tensor xi = be.upload(x, n)) {
                    be.copy(xi, o);
                    be.quantized().add(o, yi, o);
                }
            }, DType.INT32, 1, n);
        }
    }

    @Test
    void wholeQuantizedVitEqualsReference() throws Exception {
        io.inflow.gpu.encoder.vit.VitConfig c = VitInt8Fixture.config();
        io.inflow.gpu.testing.FashionMnist sample = io.inflow.gpu.testing.FashionMnist.sample();
        float[] calib = VitInt8Fixture.pixels(sample, 0, 12);
        float[] eval = VitInt8Fixture.pixels(sample, 500, 5);
        Int8Vit qRef = VitInt8Fixture.quantize(ref, calib, 12, CalibrationOptions.defaults(), null);
        Int8Vit qUnder = VitInt8Fixture.quantize(under, calib, 12, CalibrationOptions.defaults(), null);
        assertThat(qUnder.calibration()).as("calibration sees the same integers").isEqualTo(qRef.calibration());
        int[][] a = forwardVit(ref, qRef, eval, 5, c);
        int[][] b = forwardVit(under, qRef, eval, 5, c);
        assertThat(b[0]).as("class-token features").isEqualTo(a[0]);
        assertThat(b[1]).as("logits").isEqualTo(a[1]);
        assertThat(forwardVit(under, qUnder, eval, 5, c)[1]).as("logits of the model calibrated here").isEqualTo(a[1]);
        assertThat(Arrays.stream(a[0]).filter(v -> v != 0).count()).as("non-trivial features")
                .isGreaterThan(a[0].length / 2);
        assertThat(Arrays.stream(a[1]).distinct().count()).as("non-trivial logits").isGreaterThan(a[1].length / 2);
    }

    /** Class-token features and logits of the integer ViT on {@code n} preprocessed images. */
    static int[][] forwardVit(Backend backend, Int8Vit q, float[] pixels, int n, io.inflow.gpu.encoder.vit.VitConfig c) {
        try (Int8VitEncoder enc = new Int8VitEncoder(backend, q);
             Tensor x = backend.upload(pixels, n, c.channels(), c.imageSize(), c.imageSize())) {
            int[] features = backend.downloadInts(enc.forwardInteger(x));
            return new int[][] {features, backend.downloadInts(enc.logits())};
        }
    }

    static int[] forward(Backend backend, Int8Bert q, TokenBatch tb) {
        try (Int8BertEncoder enc = new Int8BertEncoder(backend, q);
             Tensor ids = backend.upload(tb.ids(), tb.batch(), tb.seq());
             Tensor len = backend.upload(tb.lengths(), tb.batch())) {
            return backend.downloadInts(enc.forwardInteger(ids, len));
        }
    }

    interface Op {
        void run(Backend b, Tensor out);
    }

    void assertSame(String what, Op op, DType type, int rows, int cols) {
        int[] expected = run(ref, op, type, rows, cols);
        int[] actual = run(under, op, type, rows, cols);
        assertThat(actual).as(what).isEqualTo(expected);
    }

    /** Input tensors made by {@link #in} during one {@link #run}, freed when it ends. */
    private final java.util.List<Tensor> inputs = new java.util.ArrayList<>();

    int[] run(Backend b, Op op, DType type, int rows, int cols) {
        try (Tensor out = b.allocate(type, rows, cols)) {
            try {
                op.run(b, out);
            } finally {
                inputs.forEach(Tensor::close);
                inputs.clear();
            }
            if (type == DType.INT32) {
                return b.downloadInts(out);
            }
            byte[] bytes;
            try (Tensor host = ref.allocate(DType.INT8, rows, cols)) {   // the reference's memory is the host's
                b.copy(out, host);
                bytes = host.toByteArray();
            }
            int[] v = new int[bytes.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = bytes[i];
            }
            return v;
        }
    }

    /** An INT8 tensor {@code [rows, cols]} on {@code b} holding {@code x}; freed when the {@link #run} ends. */
    Tensor in(Backend b, byte[] x, int rows, int cols) {
        Tensor t = b.allocate(DType.INT8, rows, cols);
        inputs.add(t);
        try (Tensor host = ref.allocate(DType.INT8, rows, cols)) {
            host.copyFrom(x);
            b.copy(host, t);
        }
        return t;
    }

    static DType outType(Requant.Output out) {
        return out == Requant.Output.INT32 ? DType.INT32 : DType.INT8;
    }

    static byte[] randomBytes(Random rnd, int n, int limit) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (rnd.nextInt(2 * limit + 1) - limit);
        }
        return b;
    }

    static float[] ones(int n) {
        float[] f = new float[n];
        Arrays.fill(f, 1f);
        return f;
    }

    static Int8Linear randomLinear(Random rnd, int n, int k) {
        byte[] w = randomBytes(rnd, n * k, 127);
        int[] bias = new int[n];
        for (int c = 0; c < n; c++) {
            bias[c] = rnd.nextInt(200_001) - 100_000;
        }
        return new Int8Linear(n, k, w, bias, ones(n), 1f);
    }

    /** Per-channel dyadics that keep typical accumulators near the output's range, some saturating. */
    static Requant randomRequant(Random rnd, int n, Requant.Output out) {
        Dyadic[] d = new Dyadic[n];
        for (int c = 0; c < n; c++) {
            double scale = switch (out) {
                case INT8 -> 1e-4;
                case INT16 -> 3e-2;
                case INT32 -> 0.7;
            };
            d[c] = Dyadic.of(scale * (0.1 + rnd.nextDouble()) * (rnd.nextBoolean() ? 1 : -1), 31);
        }
        return Requant.perChannel(d, out);
    }
}
