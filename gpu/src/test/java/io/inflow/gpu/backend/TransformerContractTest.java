package io.inflow.gpu.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.cpu.reference.ActivationsReference;
import io.inflow.gpu.backend.cpu.reference.AttentionReference;
import io.inflow.gpu.backend.cpu.reference.ElementwiseReference;
import io.inflow.gpu.backend.cpu.reference.LayerNormReference;
import io.inflow.gpu.backend.cpu.reference.MatmulReference;
import io.inflow.gpu.backend.cpu.reference.PoolingReference;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of the {@link Family#TRANSFORMER} family ({@link TransformerOps}), written once and run on every
 * backend that supports it (a subclass per backend): small inputs whose results are known by hand, argument checks,
 * memory ownership, and random inputs on edge sizes (not multiples of the GPU tiles: {1, 2, 3, 5, 7, 15, 16, 17, 31,
 * 33, ...}) against the double-precision reference kernels, with named tolerances per precision.
 */
public abstract class TransformerContractTest {
    /** Hand-computed values, float32 kernels: a few ulps. */
    static final Offset<Float> HAND_TOL = Offset.offset(1e-5f);
    /**
     * Float32 kernels vs the double-precision reference (attention, LayerNorm, pooling, activations): another
     * summation order and float32 transcendental functions (at most 2 ulp on the GPU) leave a few ulps of error,
     * about 1e-6 on the O(1) values used here; abs 1e-5 + rel 1e-4 leaves a 10x margin.
     */
    static final double FLOAT_ABS = 1e-5;
    static final double FLOAT_REL = 1e-4;
    /** Seed of every random input; printed in failure messages so a failure can be replayed. */
    static final long SEED = 20250611L;

    /**
     * How close a matrix product must be to the exact one, for {@code K}-term dot products. Per element:
     * {@code |c - ref| <= (inputRounding + K * accumulationUnit) * sum_k |a_ik * b_kj|}, a worst-case bound (never
     * flaky); over the whole tensor: {@code sum (c - ref)^2 / sum ref^2 <= nmse}, which catches errors well inside
     * the worst case.
     *
     * @param inputRounding    relative error of one product from rounding its two inputs
     * @param accumulationUnit relative error added per accumulated term (float32 accumulation)
     * @param nmse             normalised mean squared error of the whole result
     */
    public record MatmulTolerance(String name, double inputRounding, double accumulationUnit, double nmse) {
        /**
         * Float32 inputs and accumulation: no input rounding; a K-term float32 sum is within K * 2^-24 of exact
         * (the gamma_K bound), doubled for the final rounding of the double reference. NMSE: random-sign errors give
         * about K * 2^-48 (3.6e-12 at K = 1024); 1e-10 leaves a 30x margin.
         */
        public static final MatmulTolerance FP32 = new MatmulTolerance("fp32", 0, 0x1p-23, 1e-10);
        /**
         * BF16 inputs (8-bit significand: each rounded input is within 2^-8 of its float32 value, so a product of two
         * is within (1 + 2^-8)^2 - 1 < 2^-7 * 1.01), float32 accumulation on the tensor cores, which may align and
         * truncate inside one MMA step: 2^-22 per term (4x float32's unit). NMSE: independent rounding errors of
         * relative variance 2 * (2^-8)^2 / 3 give about 1e-5; 2^-14 (6.1e-5) leaves a 6x margin.
         */
        public static final MatmulTolerance BF16 = new MatmulTolerance("bf16", 0x1p-7 * 1.01, 0x1p-22, 0x1p-14);
        /**
         * FP16 inputs (11-bit significand: a product of two rounded inputs within 2^-10 * 1.01), float32 accumulation
         * as BF16's. NMSE: relative variance 2 * (2^-11)^2 / 3 gives about 1.6e-7; 2^-20 (9.5e-7) leaves a 6x margin.
         * The inputs here lie in [-1, 1], inside FP16's range.
         */
        public static final MatmulTolerance FP16 = new MatmulTolerance("fp16", 0x1p-10 * 1.01, 0x1p-22, 0x1p-20);

        double bound(int k) {
            return inputRounding + k * accumulationUnit;
        }
    }

    /** The tolerance of this backend's matmul; reduced-precision backends override it. */
    protected MatmulTolerance matmulTolerance() {
        return MatmulTolerance.FP32;
    }

    protected Backend backend;
    /** {@code backend.transformer()}: the family under test. */
    protected TransformerOps ops;

    protected abstract Backend create();

    @BeforeEach
    protected void open() {
        backend = create();
        ops = backend.transformer();
    }

    @Test
    void theBackendSaysItSupportsTheFamily() {
        assertThat(backend.supports(Family.TRANSFORMER)).as(backend.name()).isTrue();
        backend.require(Family.TRANSFORMER);
    }

    @AfterEach
    protected void close() {
        if (backend != null) {
            backend.close();    // fails if a test leaked a tensor
        }
    }

    @Test
    void linearIsXTimesWTransposedPlusBias() {
        try (Tensor x = backend.upload(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
             Tensor w = backend.upload(new float[] {1, 0, 0, 0, 1, 1}, 2, 3);
             Tensor b = backend.upload(new float[] {10, 20}, 2);
             Tensor y = backend.allocate(DType.FLOAT32, 2, 2)) {
            ops.linear(x, w, b, y);
            assertThat(backend.download(y)).containsExactly(11, 25, 14, 31);
            ops.matmul(x, w, true, y);
            assertThat(backend.download(y)).containsExactly(1, 5, 4, 11);
        }
    }

    @Test
    void linearResidualAddsTheProjectionToTheResidualStream() {
        try (Tensor x = backend.upload(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
             Tensor w = backend.upload(new float[] {1, 0, 0, 0, 1, 1}, 2, 3);
             Tensor b = backend.upload(new float[] {10, 20}, 2);
             Tensor acc = backend.upload(new float[] {100, 200, 300, 400}, 2, 2)) {
            ops.linearResidual(x, w, b, acc);
            assertThat(backend.download(acc)).containsExactly(111, 225, 314, 431);
            ops.linearResidual(x, w, null, acc);
            assertThat(backend.download(acc)).containsExactly(112, 230, 318, 442);
        }
    }

    @Test
    void layerNormOfAConstantRowIsBeta() {
        try (Tensor x = backend.upload(new float[] {3, 3, 3, 1, 2, 3}, 2, 3);
             Tensor g = backend.upload(new float[] {1, 1, 1}, 3);
             Tensor b = backend.upload(new float[] {0.5f, 0.5f, 0.5f}, 3);
             Tensor y = backend.allocate(DType.FLOAT32, 2, 3)) {
            ops.layerNorm(x, null, g, b, 1e-12f, y);
            float[] out = backend.download(y);
            assertThat(out[0]).isCloseTo(0.5f, HAND_TOL);
            assertThat(out[3]).isCloseTo(0.5f - (float) Math.sqrt(1.5), HAND_TOL);   // (1-2)/sqrt(2/3) + 0.5
            assertThat(out[5]).isCloseTo(0.5f + (float) Math.sqrt(1.5), HAND_TOL);
        }
    }

    @Test
    void geluValues() {
        try (Tensor x = backend.upload(new float[] {0, 1, -1, 3}, 4); Tensor y = backend.allocate(DType.FLOAT32, 4)) {
            ops.gelu(x, y);
            float[] g = backend.download(y);
            assertThat(g[0]).isCloseTo(0f, HAND_TOL);
            assertThat(g[1]).isCloseTo(0.8413447f, HAND_TOL);
            assertThat(g[2]).isCloseTo(-0.1586553f, HAND_TOL);
            assertThat(g[3]).isCloseTo(2.9959502f, HAND_TOL);
            ops.quickGelu(x, y);
            assertThat(backend.download(y)[1]).isCloseTo((float) (1 / (1 + Math.exp(-1.702))), HAND_TOL);
        }
    }

    @Test
    void attentionOverOneValidKeyCopiesItsValue() {
        // batch 1, seq 3, 1 head of dim 2; length 1: the only key is position 0, so out[0] = v[0]
        try (Tensor q = backend.upload(new float[] {1, 2, 3, 4, 5, 6}, 1, 3, 2);
             Tensor v = backend.upload(new float[] {7, 8, 9, 9, 9, 9}, 1, 3, 2);
             Tensor len = backend.upload(new int[] {1}, 1);
             Tensor out = backend.allocate(DType.FLOAT32, 1, 3, 2)) {
            ops.attention(q, q, v, len, 1, out);
            assertThat(backend.download(out)).containsExactly(7, 8, 0, 0, 0, 0);
        }
    }

    @Test
    void attentionWithEqualScoresAveragesValues() {
        try (Tensor q = backend.upload(new float[4 * 2], 1, 2, 4);      // zero queries: uniform weights
             Tensor v = backend.upload(new float[] {1, 2, 3, 4, 3, 4, 5, 6}, 1, 2, 4);
             Tensor len = backend.upload(new int[] {2}, 1);
             Tensor out = backend.allocate(DType.FLOAT32, 1, 2, 4)) {
            ops.attention(q, q, v, len, 2, out);
            assertThat(backend.download(out)).containsExactly(2, 3, 4, 5, 2, 3, 4, 5);
        }
    }

    @Test
    void embeddingAddsWordPositionAndType() {
        try (Tensor ids = backend.upload(new int[] {2, 0}, 1, 2);
             Tensor word = backend.upload(new float[] {0, 0, 1, 1, 2, 2}, 3, 2);
             Tensor pos = backend.upload(new float[] {10, 10, 20, 20}, 2, 2);
             Tensor type = backend.upload(new float[] {100, 100}, 1, 2);
             Tensor out = backend.allocate(DType.FLOAT32, 1, 2, 2)) {
            ops.embed(ids, null, word, pos, type, out);
            assertThat(backend.download(out)).containsExactly(112, 112, 120, 120);
            try (Tensor bad = backend.upload(new int[] {3, 0}, 1, 2)) {
                assertThatThrownBy(() -> ops.embed(bad, null, word, pos, type, out))
                        .hasMessageContaining("token id 3").hasMessageContaining("[0, 3)");
            }
        }
    }

    @Test
    void gluL2AndScaleAdd() {
        try (Tensor x = backend.upload(new float[] {2, 0}, 1, 2);
             Tensor g = backend.allocate(DType.FLOAT32, 1, 1);
             Tensor v = backend.upload(new float[] {3, 4}, 1, 2);
             Tensor n = backend.allocate(DType.FLOAT32, 1, 2)) {
            ops.glu(x, GluGate.SIGMOID, g);
            assertThat(backend.download(g)[0]).isCloseTo(1f, HAND_TOL);     // 2 * sigmoid(0)
            ops.l2Normalize(v, n);
            assertThat(backend.download(n)).containsExactly(0.6f, 0.8f);
            ops.scaleAdd(n, v, 0.5f);
            assertThat(backend.download(n)).containsExactly(2.1f, 2.8f);
            ops.fill(n, 0f);
            ops.l2Normalize(n, n);
            assertThat(backend.download(n)).containsExactly(0f, 0f);
        }
    }

    @Test
    void shapeErrorsNameTheArgumentAndShapes() {
        try (Tensor x = backend.upload(new float[6], 2, 3);
             Tensor w = backend.upload(new float[8], 2, 4);
             Tensor y = backend.allocate(DType.FLOAT32, 2, 2)) {
            assertThatThrownBy(() -> ops.linear(x, w, null, y)).hasMessageContaining("disagree on k: 3 vs 4");
            try (Tensor len = backend.upload(new int[] {5}, 1); Tensor h = backend.upload(new float[6], 1, 3, 2);
                 Tensor o = backend.allocate(DType.FLOAT32, 1, 2)) {
                assertThatThrownBy(() -> ops.meanPool(h, len, o)).hasMessageContaining("lengths[0] = 5 outside [1, 3]");
            }
        }
    }

    // ---- random inputs on edge sizes vs the double-precision reference ----------------------------------------

    private static float[] random(Random rnd, int n, float lo, float hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = lo + (hi - lo) * rnd.nextFloat();
        }
        return a;
    }

    private static void assertClose(String what, float[] expected, float[] actual, double abs, double rel) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            double tol = abs + rel * Math.abs(expected[i]);
            if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
                throw new AssertionError(what + " (seed " + SEED + "): element " + i + " is " + actual[i] + ", expected "
                        + expected[i] + " +- " + tol);
            }
        }
    }

    @Test
    protected void matmulOnEdgeSizesMeetsThePrecisionTolerance() {
        MatmulTolerance tol = matmulTolerance();
        int[][] shapes = {{1, 1, 1}, {2, 3, 5}, {7, 15, 17}, {16, 16, 16}, {17, 33, 31}, {33, 65, 129}, {64, 64, 64},
                {100, 384, 384}, {5, 1536, 384}};
        Random rnd = new Random(SEED);
        for (int[] s : shapes) {
            for (boolean transposeB : new boolean[] {true, false}) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
                float[] a = random(rnd, m * k, -1, 1);
                float[] b = random(rnd, n * k, -1, 1);
                double[] ref = new double[m * n];
                double[] magnitude = new double[m * n];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0;
                        double abs = 0;
                        for (int p = 0; p < k; p++) {
                            double prod = (double) a[i * k + p] * (transposeB ? b[j * k + p] : b[p * n + j]);
                            sum += prod;
                            abs += Math.abs(prod);
                        }
                        ref[i * n + j] = sum;
                        magnitude[i * n + j] = abs;
                    }
                }
                float[] c;
                try (Tensor ta = backend.upload(a, m, k);
                     Tensor tb = backend.upload(b, transposeB ? n : k, transposeB ? k : n);
                     Tensor tc = backend.allocate(DType.FLOAT32, m, n)) {
                    ops.matmul(ta, tb, transposeB, tc);
                    c = backend.download(tc);
                }
                String what = "matmul " + m + "x" + n + "x" + k + (transposeB ? " (B^T)" : "") + " at " + tol.name()
                        + " tolerance, seed " + SEED;
                double errSq = 0;
                double refSq = 0;
                for (int i = 0; i < ref.length; i++) {
                    double err = Math.abs(c[i] - ref[i]);
                    double bound = tol.bound(k) * magnitude[i] + 1e-30;
                    if (!(err <= bound)) {
                        throw new AssertionError(what + ": element " + i + " is " + c[i] + ", exact " + ref[i]
                                + ", error " + err + " > bound " + bound);
                    }
                    errSq += err * err;
                    refSq += ref[i] * ref[i];
                }
                assertThat(errSq / refSq).as(what + ": NMSE").isLessThanOrEqualTo(tol.nmse());
            }
        }
    }

    @Test
    void linearFusesTheBiasLikeMatmulThenAddBias() {
        Random rnd = new Random(SEED + 1);
        int m = 37;
        int n = 70;
        int k = 33;
        float[] x = random(rnd, m * k, -1, 1);
        float[] w = random(rnd, n * k, -1, 1);
        float[] bias = random(rnd, n, -1, 1);
        try (Tensor tx = backend.upload(x, m, k); Tensor tw = backend.upload(w, n, k); Tensor tb = backend.upload(bias, n);
             Tensor y1 = backend.allocate(DType.FLOAT32, m, n); Tensor y2 = backend.allocate(DType.FLOAT32, m, n)) {
            ops.linear(tx, tw, tb, y1);
            ops.matmul(tx, tw, true, y2);
            ops.addBias(y2, tb);
            // the same products; only the rounding of the bias addition may differ (fused or not)
            assertClose("linear vs matmul + addBias", backend.download(y2), backend.download(y1), FLOAT_ABS, FLOAT_REL);
        }
    }

    /**
     * The fused bias + GELU epilogue ({@code linearGelu}, the feed-forward up-projection) equals linear then GELU:
     * the same products, so only the epilogue's rounding and GELU's float32 evaluation differ (float tolerance).
     */
    @Test
    void linearGeluFusesBiasAndGeluLikeLinearThenGelu() {
        Random rnd = new Random(SEED + 5);
        int m = 37;
        int n = 70;
        int k = 33;
        float[] x = random(rnd, m * k, -1, 1);
        float[] w = random(rnd, n * k, -1, 1);
        float[] bias = random(rnd, n, -1, 1);
        try (Tensor tx = backend.upload(x, m, k); Tensor tw = backend.upload(w, n, k); Tensor tb = backend.upload(bias, n);
             Tensor fused = backend.allocate(DType.FLOAT32, m, n); Tensor lin = backend.allocate(DType.FLOAT32, m, n);
             Tensor plain = backend.allocate(DType.FLOAT32, m, n)) {
            ops.linearGelu(tx, tw, tb, fused);
            ops.linear(tx, tw, tb, lin);
            ops.gelu(lin, plain);
            assertClose("linearGelu vs linear + gelu", backend.download(plain), backend.download(fused), FLOAT_ABS,
                    FLOAT_REL);
        }
    }

    @Test
    void attentionOnEdgeSizesMatchesTheReference() {
        // {batch, seq, heads, headDim} with lengths: seq not a multiple of the 16-query / 32-key blocks, a row of
        // length 1, a full row, and three key blocks (seq 70)
        // head_dim 128: the CUDA kernel's shared memory exceeds 48 KiB and needs the opt-in attribute
        int[][] cases = {{3, 37, 2, 32}, {2, 70, 4, 16}, {1, 1, 1, 8}, {2, 33, 3, 64}, {2, 40, 2, 128}};
        int[][] lengths = {{37, 1, 20}, {70, 33}, {1}, {17, 33}, {40, 9}};
        Random rnd = new Random(SEED + 2);
        for (int c = 0; c < cases.length; c++) {
            int b = cases[c][0];
            int s = cases[c][1];
            int h = cases[c][2];
            int hd = cases[c][3];
            int d = h * hd;
            float[] q = random(rnd, b * s * d, -1, 1);
            float[] k = random(rnd, b * s * d, -1, 1);
            float[] v = random(rnd, b * s * d, -1, 1);
            float[] expected = new float[b * s * d];
            AttentionReference.attention(q, k, v, lengths[c], expected, b, s, h, hd);
            try (Tensor tq = backend.upload(q, b, s, d); Tensor tk = backend.upload(k, b, s, d);
                 Tensor tv = backend.upload(v, b, s, d); Tensor len = backend.upload(lengths[c], b);
                 Tensor out = backend.allocate(DType.FLOAT32, b, s, d)) {
                ops.attention(tq, tk, tv, len, h, out);
                assertClose("attention b=" + b + " s=" + s + " heads=" + h + " hd=" + hd, expected,
                        backend.download(out), FLOAT_ABS, FLOAT_REL);
            }
        }
    }

    @Test
    void layerNormWithResidualMatchesTheReference() {
        Random rnd = new Random(SEED + 3);
        for (int[] rc : new int[][] {{5, 384}, {3, 33}, {1, 1}, {2, 1000}}) {
            int rows = rc[0];
            int cols = rc[1];
            float[] x = random(rnd, rows * cols, -3, 3);
            float[] r = random(rnd, rows * cols, -1, 1);
            float[] g = random(rnd, cols, 0.5f, 1.5f);
            float[] bt = random(rnd, cols, -1, 1);
            float[] expected = new float[rows * cols];
            LayerNormReference.layerNorm(x, r, g, bt, 1e-12f, expected, rows, cols);
            try (Tensor tx = backend.upload(x, rows, cols); Tensor tr = backend.upload(r, rows, cols);
                 Tensor tg = backend.upload(g, cols); Tensor tb = backend.upload(bt, cols)) {
                ops.layerNorm(tx, tr, tg, tb, 1e-12f, tr);   // out aliases the residual, as in the encoder
                assertClose("layerNorm " + rows + "x" + cols, expected, backend.download(tr), FLOAT_ABS, FLOAT_REL);
            }
        }
    }

    @Test
    void poolingOnEdgeSizesMatchesTheReference() {
        Random rnd = new Random(SEED + 4);
        int b = 3;
        int s = 7;
        int d = 33;
        int[] len = {7, 1, 4};
        float[] hidden = random(rnd, b * s * d, -2, 2);
        float[] mean = new float[b * d];
        float[] first = new float[b * d];
        float[] last = new float[b * d];
        PoolingReference.mean(hidden, len, mean, b, s, d);
        PoolingReference.first(hidden, first, b, s, d);
        PoolingReference.last(hidden, len, last, b, s, d);
        try (Tensor h = backend.upload(hidden, b, s, d); Tensor l = backend.upload(len, b);
             Tensor out = backend.allocate(DType.FLOAT32, b, d)) {
            ops.meanPool(h, l, out);
            assertClose("meanPool", mean, backend.download(out), FLOAT_ABS, FLOAT_REL);
            ops.firstTokenPool(h, out);
            assertThat(backend.download(out)).as("firstTokenPool copies exactly").containsExactly(first);
            ops.lastTokenPool(h, l, out);
            assertThat(backend.download(out)).as("lastTokenPool copies exactly").containsExactly(last);
        }
    }

    @Test
    void activationsMatchTheReference() {
        Random rnd = new Random(SEED + 5);
        int rows = 3;
        int h = 17;
        float[] x = random(rnd, rows * 2 * h, -5, 5);
        float[] gelu = new float[x.length];
        float[] quick = new float[x.length];
        ActivationsReference.gelu(x, gelu);
        ActivationsReference.quickGelu(x, quick);
        try (Tensor tx = backend.upload(x, rows, 2 * h); Tensor out = backend.allocate(DType.FLOAT32, rows, 2 * h);
             Tensor g = backend.allocate(DType.FLOAT32, rows, h)) {
            ops.gelu(tx, out);
            assertClose("gelu", gelu, backend.download(out), FLOAT_ABS, FLOAT_REL);
            ops.quickGelu(tx, out);
            assertClose("quickGelu", quick, backend.download(out), FLOAT_ABS, FLOAT_REL);
            for (GluGate gate : GluGate.values()) {
                float[] expected = new float[rows * h];
                ActivationsReference.glu(x, gate, expected, rows, h);
                ops.glu(tx, gate, g);
                assertClose("glu " + gate, expected, backend.download(g), FLOAT_ABS, FLOAT_REL);
            }
        }
    }

    @Test
    void elementwiseKernelsAreBitExact() {
        // one float32 rounding per operation, in the same order on every backend: identical floats
        Random rnd = new Random(SEED + 6);
        int rows = 5;
        int cols = 33;
        float[] a = random(rnd, rows * cols, -3, 3);
        float[] b = random(rnd, rows * cols, -3, 3);
        float[] bias = random(rnd, cols, -1, 1);
        float[] sum = new float[a.length];
        ElementwiseReference.add(a, b, sum);
        float[] scaled = a.clone();
        ElementwiseReference.scaleAdd(scaled, b, 0.37f);
        float[] biased = a.clone();
        ElementwiseReference.addBias(biased, bias, rows, cols);
        float[] normalized = new float[a.length];
        ElementwiseReference.l2Normalize(a, normalized, rows, cols);
        try (Tensor ta = backend.upload(a, rows, cols); Tensor tb = backend.upload(b, rows, cols);
             Tensor tbias = backend.upload(bias, cols); Tensor out = backend.allocate(DType.FLOAT32, rows, cols)) {
            ops.add(ta, tb, out);
            assertThat(backend.download(out)).as("add").containsExactly(sum);
            ops.add(ta, tb, ta);   // in place
            ops.scaleAdd(ta, tb, -1f);
            ops.fill(out, 0f);
            ops.scaleAdd(out, ta, 1f);
            ops.scaleAdd(out, tb, 0.37f);
            // out = 0 + 1 * ((a + b) - b) + 0.37 b: compare with the reference sequence of the same operations
            float[] expected = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                float t = a[i] + b[i];
                t += -1f * b[i];
                float o = 0f;
                o += 1f * t;
                o += 0.37f * b[i];
                expected[i] = o;
            }
            assertThat(backend.download(out)).as("scaleAdd sequence").containsExactly(expected);
            try (Tensor tx = backend.upload(a, rows, cols)) {
                ops.scaleAdd(tx, tb, 0.37f);
                assertThat(backend.download(tx)).as("scaleAdd").containsExactly(scaled);
            }
            try (Tensor tx = backend.upload(a, rows, cols)) {
                ops.addBias(tx, tbias);
                assertThat(backend.download(tx)).as("addBias").containsExactly(biased);
            }
            try (Tensor tx = backend.upload(a, rows, cols)) {
                ops.l2Normalize(tx, tx);
                assertClose("l2Normalize", normalized, backend.download(tx), FLOAT_ABS, FLOAT_REL);
            }
        }
    }

    @Test
    void embeddingWithTokenTypesIsExact() {
        Random rnd = new Random(SEED + 7);
        int vocab = 50;
        int d = 33;
        int b = 2;
        int s = 5;
        float[] word = random(rnd, vocab * d, -1, 1);
        float[] pos = random(rnd, 8 * d, -1, 1);
        float[] type = random(rnd, 2 * d, -1, 1);
        int[] ids = new int[b * s];
        int[] types = new int[b * s];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rnd.nextInt(vocab);
            types[i] = rnd.nextInt(2);
        }
        float[] expected = new float[b * s * d];
        for (int t = 0; t < b * s; t++) {
            for (int c = 0; c < d; c++) {
                float e = word[ids[t] * d + c] + pos[(t % s) * d + c];
                e += type[types[t] * d + c];
                expected[t * d + c] = e;
            }
        }
        try (Tensor tid = backend.upload(ids, b, s); Tensor tty = backend.upload(types, b, s);
             Tensor tw = backend.upload(word, vocab, d); Tensor tp = backend.upload(pos, 8, d);
             Tensor tt = backend.upload(type, 2, d); Tensor out = backend.allocate(DType.FLOAT32, b, s, d)) {
            ops.embed(tid, tty, tw, tp, tt, out);
            assertThat(backend.download(out)).containsExactly(expected);
        }
    }
}
