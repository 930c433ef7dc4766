package io.inflow.gpu.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.Vectors;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every fast CPU kernel against its reference twin on pinned edge sizes (not multiples of the vector
 * width or the 6 x 32 tile) and seeded random data.
 */
class FastVsReferenceTest {
    /** Fast vs reference: summation order differs (blocked FMA in float vs double loops). */
    static final double ABS_TOL = 1e-4;
    static final double REL_TOL = 1e-4;
    static final int[] EDGE = {1, 2, 3, 5, 7, 15, 16, 17, 31, 33};
    static final long SEED = 20240601L;

    static Backend ref;
    static Backend fast;

    @BeforeAll
    static void open() {
        ref = new ReferenceCpuBackend(null);
        fast = new FastCpuBackend(null, 2);
    }

    @AfterAll
    static void close() {
        ref.close();
        fast.close();
    }

    private static float[] random(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    /** Runs {@code op} on both backends with the same inputs and compares the output tensor. */
    private static void same(String what, float[][] inputs, int[][] shapes, int[] outShape,
                             KernelCall op) {
        float[][] results = new float[2][];
        Backend[] backends = {ref, fast};
        for (int i = 0; i < 2; i++) {
            List<Tensor> ts = new ArrayList<>();
            try {
                for (int j = 0; j < inputs.length; j++) {
                    ts.add(backends[i].upload(inputs[j], shapes[j]));
                }
                Tensor out = backends[i].allocate(DType.FLOAT32, outShape);
                ts.add(out);
                op.run(backends[i], ts);
                results[i] = out.toFloatArray();
            } finally {
                ts.forEach(Tensor::close);
            }
        }
        int bad = Vectors.firstMismatch(results[1], results[0], ABS_TOL, REL_TOL);
        assertThat(bad).as("%s: first mismatch at %d (fast %s vs reference %s), seed %d", what, bad,
                bad >= 0 ? results[1][bad] : 0, bad >= 0 ? results[0][bad] : 0, SEED).isEqualTo(-1);
    }

    @FunctionalInterface
    interface KernelCall {
        void run(Backend b, List<Tensor> t);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5, 7, 15, 16, 17, 31, 33})
    void matmulTransposedAndPlainOnEdgeSizes(int size) {
        Random r = new Random(SEED + size);
        for (int n : EDGE) {
            int m = size;
            int k = EDGE[(size + n) % EDGE.length];
            float[] a = random(r, m * k, 1f);
            float[] bt = random(r, n * k, 1f);
            same("matmul^T " + m + "x" + n + "x" + k, new float[][] {a, bt}, new int[][] {{m, k}, {n, k}},
                    new int[] {m, n}, (b, t) -> b.transformer().matmul(t.get(0), t.get(1), true, t.get(2)));
            same("matmul " + m + "x" + n + "x" + k, new float[][] {a, bt}, new int[][] {{m, k}, {k, n}},
                    new int[] {m, n}, (b, t) -> b.transformer().matmul(t.get(0), t.get(1), false, t.get(2)));
        }
    }

    @Test
    void linearWithBiasOnEncoderShapes() {
        Random r = new Random(SEED);
        int[][] mnk = {{1, 384, 384}, {37, 1536, 384}, {200, 384, 1536}, {7, 33, 17}};
        for (int[] s : mnk) {
            same("linear " + java.util.Arrays.toString(s),
                    new float[][] {random(r, s[0] * s[2], 1f), random(r, s[1] * s[2], 0.05f), random(r, s[1], 1f)},
                    new int[][] {{s[0], s[2]}, {s[1], s[2]}, {s[1]}}, new int[] {s[0], s[1]},
                    (b, t) -> b.transformer().linear(t.get(0), t.get(1), t.get(2), t.get(3)));
        }
    }

    @Test
    void linearGeluOnEncoderShapes() {
        Random r = new Random(SEED);
        int[][] mnk = {{1, 1536, 384}, {37, 1536, 384}, {7, 33, 17}, {5, 17, 3}};
        for (int[] s : mnk) {
            same("linearGelu " + java.util.Arrays.toString(s),
                    new float[][] {random(r, s[0] * s[2], 1f), random(r, s[1] * s[2], 0.05f), random(r, s[1], 1f)},
                    new int[][] {{s[0], s[2]}, {s[1], s[2]}, {s[1]}}, new int[] {s[0], s[1]},
                    (b, t) -> b.transformer().linearGelu(t.get(0), t.get(1), t.get(2), t.get(3)));
            same("linearGelu no bias " + java.util.Arrays.toString(s),
                    new float[][] {random(r, s[0] * s[2], 1f), random(r, s[1] * s[2], 0.05f)},
                    new int[][] {{s[0], s[2]}, {s[1], s[2]}}, new int[] {s[0], s[1]},
                    (b, t) -> b.transformer().linearGelu(t.get(0), t.get(1), null, t.get(2)));
        }
    }

    @Test
    void linearResidualOnViTShapes() {
        Random r = new Random(SEED);
        int[][] mnk = {{12800, 128, 256}, {100, 128, 128}, {7, 33, 17}, {5, 17, 3}};
        for (int[] s : mnk) {
            same("linearResidual " + java.util.Arrays.toString(s),
                    new float[][] {random(r, s[0] * s[2], 1f), random(r, s[1] * s[2], 0.05f), random(r, s[1], 1f),
                            random(r, s[0] * s[1], 2f)},
                    new int[][] {{s[0], s[2]}, {s[1], s[2]}, {s[1]}, {s[0], s[1]}}, new int[] {s[0], s[1]},
                    (b, t) -> {
                        b.copy(t.get(3), t.get(4));
                        b.transformer().linearResidual(t.get(0), t.get(1), t.get(2), t.get(4));
                    });
        }
    }

    @Test
    void layerNormWithAndWithoutResidual() {
        Random r = new Random(SEED);
        for (int cols : new int[] {1, 3, 16, 17, 33, 384}) {
            int rows = 19;
            float[] x = random(r, rows * cols, 3f);
            float[] res = random(r, rows * cols, 1f);
            float[] g = random(r, cols, 1f);
            float[] be = random(r, cols, 1f);
            same("layerNorm+res " + cols, new float[][] {x, res, g, be},
                    new int[][] {{rows, cols}, {rows, cols}, {cols}, {cols}}, new int[] {rows, cols},
                    (b, t) -> b.transformer().layerNorm(t.get(0), t.get(1), t.get(2), t.get(3), 1e-12f, t.get(4)));
            same("layerNorm " + cols, new float[][] {x, g, be}, new int[][] {{rows, cols}, {cols}, {cols}},
                    new int[] {rows, cols}, (b, t) -> b.transformer().layerNorm(t.get(0), null, t.get(1), t.get(2), 1e-5f, t.get(3)));
        }
    }

    @Test
    void activationsOverTheWholeRange() {
        Random r = new Random(SEED);
        for (int n : EDGE) {
            float[] x = random(r, n * 37, 4f);
            x[0] = 0f;
            x[x.length - 1] = -12f;
            int[] shape = {n, 37};
            same("gelu " + n, new float[][] {x}, new int[][] {shape}, shape, (b, t) -> b.transformer().gelu(t.get(0), t.get(1)));
            same("quickGelu " + n, new float[][] {x}, new int[][] {shape}, shape,
                    (b, t) -> b.transformer().quickGelu(t.get(0), t.get(1)));
            for (GluGate gate : GluGate.values()) {
                float[] xx = random(r, n * 2 * n, 3f);
                same("glu " + gate + " " + n, new float[][] {xx}, new int[][] {{n, 2 * n}}, new int[] {n, n},
                        (b, t) -> b.transformer().glu(t.get(0), gate, t.get(1)));
            }
        }
    }

    @Test
    void inPlaceGeluMatchesReference() {
        float[] x = random(new Random(SEED), 1000, 3f);
        try (Tensor a = fast.upload(x, 1000)) {
            fast.transformer().gelu(a, a);
            float[] expected = new float[1000];
            io.inflow.gpu.backend.cpu.reference.ActivationsReference.gelu(x, expected);
            assertThat(Vectors.firstMismatch(a.toFloatArray(), expected, ABS_TOL, REL_TOL)).isEqualTo(-1);
        }
    }

    @Test
    void attentionWithPaddingMasks() {
        Random r = new Random(SEED);
        int[][] cases = {{1, 1, 1, 1}, {1, 5, 2, 3}, {3, 17, 4, 8}, {2, 33, 12, 32}, {4, 16, 3, 5}, {2, 31, 2, 64}};
        for (int[] c : cases) {
            int batch = c[0];
            int seq = c[1];
            int heads = c[2];
            int d = heads * c[3];
            int[] lengths = new int[batch];
            for (int b = 0; b < batch; b++) {
                lengths[b] = b == 0 ? seq : (b == 1 ? 1 : 1 + r.nextInt(seq));   // full, all padding but one, random
            }
            int n = batch * seq * d;
            float[] q = random(r, n, 1f);
            float[] k = random(r, n, 1f);
            float[] v = random(r, n, 1f);
            int[] shape = {batch, seq, d};
            same("attention " + java.util.Arrays.toString(c), new float[][] {q, k, v},
                    new int[][] {shape, shape, shape}, shape, (b, t) -> {
                        try (Tensor len = b.upload(lengths, batch)) {
                            b.transformer().attention(t.get(0), t.get(1), t.get(2), len, heads, t.get(3));
                        }
                    });
        }
    }

    @Test
    void selfAttentionWithFusedProjections() {
        Random r = new Random(SEED);
        int[][] cases = {{1, 1, 1, 1}, {3, 17, 4, 8}, {2, 33, 12, 32}, {4, 16, 3, 5}};
        for (int[] c : cases) {
            int batch = c[0];
            int seq = c[1];
            int heads = c[2];
            int d = heads * c[3];
            int[] lengths = new int[batch];
            for (int b = 0; b < batch; b++) {
                lengths[b] = b == 0 ? seq : (b == 1 ? 1 : 1 + r.nextInt(seq));
            }
            int[] shape = {batch, seq, d};
            int[] w = {d, d};
            int[] bias = {d};
            for (boolean withBias : new boolean[] {true, false}) {
                // weights of 0.05 keep the logits moderate (as in trained models): with 0.3 they reach ~10 and
                // fp32 rounding of the projections alone moves outputs by 2e-4 at d = 384
                float[][] in = {random(r, batch * seq * d, 1f), random(r, d * d, 0.05f), random(r, d, 1f),
                        random(r, d * d, 0.05f), random(r, d, 1f), random(r, d * d, 0.05f), random(r, d, 1f)};
                same("selfAttention " + java.util.Arrays.toString(c) + (withBias ? "" : " no bias"), in,
                        new int[][] {shape, w, bias, w, bias, w, bias}, shape, (b, t) -> {
                            try (Tensor len = b.upload(lengths, batch);
                                 Tensor qkv = b.allocate(DType.FLOAT32, batch * seq, 3 * d)) {
                                b.transformer().selfAttention(t.get(0), t.get(1), withBias ? t.get(2) : null, t.get(3),
                                        withBias ? t.get(4) : null, t.get(5), withBias ? t.get(6) : null, len, heads,
                                        qkv, t.get(7));
                            }
                        });
            }
        }
    }

    @Test
    void embeddingGatherMatches() {
        Random r = new Random(SEED);
        int vocab = 50;
        int dim = 17;
        int batch = 3;
        int seq = 7;
        int[] ids = new int[batch * seq];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(vocab);
        }
        float[] word = random(r, vocab * dim, 1f);
        float[] pos = random(r, 10 * dim, 1f);
        float[] type = random(r, 2 * dim, 1f);
        same("embed", new float[][] {word, pos, type}, new int[][] {{vocab, dim}, {10, dim}, {2, dim}},
                new int[] {batch, seq, dim}, (b, t) -> {
                    try (Tensor idt = b.upload(ids, batch, seq)) {
                        b.transformer().embed(idt, null, t.get(0), t.get(1), t.get(2), t.get(3));
                    }
                });
    }

    @Test
    void poolingMatchesOnEdgeSizes() {
        // a kernel that falls back to the reference would be compared with itself here: make sure each is fast
        assertThat(((FastCpuBackend) fast).fallbacks()).doesNotContain("transformer.meanPool",
                "transformer.lastTokenPool", "transformer.firstTokenPool");
        Random r = new Random(SEED);
        for (int dim : new int[] {1, 7, 16, 33, 384}) {
            for (int seq : new int[] {1, 9, 17}) {
                int batch = 4;
                float[] h = random(r, batch * seq * dim, 1f);
                int[] lengths = {seq, 1, 1 + r.nextInt(seq), Math.max(1, seq - 1)};  // full, one, random, one short
                int[] in = {batch, seq, dim};
                int[] outShape = {batch, dim};
                String shape = " " + batch + "x" + seq + "x" + dim;
                same("meanPool" + shape, new float[][] {h}, new int[][] {in}, outShape, (b, t) -> {
                    try (Tensor len = b.upload(lengths, batch)) {
                        b.transformer().meanPool(t.get(0), len, t.get(1));
                    }
                });
                same("lastTokenPool" + shape, new float[][] {h}, new int[][] {in}, outShape, (b, t) -> {
                    try (Tensor len = b.upload(lengths, batch)) {
                        b.transformer().lastTokenPool(t.get(0), len, t.get(1));
                    }
                });
                same("firstTokenPool" + shape, new float[][] {h}, new int[][] {in}, outShape,
                        (b, t) -> b.transformer().firstTokenPool(t.get(0), t.get(1)));
            }
        }
    }
}
