package io.inflow.gpu.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.GluGate;
import io.inflow.gpu.backend.Workspace;
import io.inflow.gpu.backend.cpu.reference.ActivationsReference;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.Vectors;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each head against the formula written out in double precision, on the fast CPU backend. */
class HeadsTest {
    /** Fast float32 GEMM + activations vs a double-precision loop. */
    static final double ABS_TOL = 1e-4;
    static final double REL_TOL = 1e-4;
    static final long SEED = 7L;

    @TempDir
    Path tmp;
    Backend backend;
    Workspace ws;
    final Random r = new Random(SEED);

    @BeforeEach
    void open() {
        backend = Backends.create(io.inflow.gpu.backend.BackendKind.CPU, 2);
        ws = new Workspace(backend);
    }

    @AfterEach
    void close() {
        ws.close();
        backend.close();
    }

    private float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian() * 0.5f;
        }
        return a;
    }

    /** y[n, out] = x[n, in] W^T + b. */
    private static float[] linear(float[] x, int n, int in, float[] w, int out, float[] b) {
        float[] y = new float[n * out];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int k = 0; k < in; k++) {
                    s += (double) x[i * in + k] * w[o * in + k];
                }
                y[i * out + o] = (float) s;
            }
        }
        return y;
    }

    private float[] run(HeadConfig config, float[] x, int n, int in, int expectedOut) throws Exception {
        try (Head head = Heads.load(config, backend, in);
             Tensor xt = backend.upload(x, n, in);
             Tensor out = backend.allocate(DType.FLOAT32, n, expectedOut)) {
            assertThat(head.inDim()).isEqualTo(in);
            assertThat(head.outDim()).isEqualTo(expectedOut);
            head.apply(backend, xt, out, ws);
            return out.toFloatArray();
        }
    }

    private Path write(String name, WeightArray... tensors) throws Exception {
        Path p = tmp.resolve(name);
        SafetensorsWriter.writeF32(p, List.of(tensors));
        return p;
    }

    private static void assertClose(float[] actual, float[] expected) {
        int bad = Vectors.firstMismatch(actual, expected, ABS_TOL, REL_TOL);
        assertThat(bad).as("first mismatch at %d, seed %d", bad, SEED).isEqualTo(-1);
    }

    @Test
    void linearWithAndWithoutResidual() throws Exception {
        int n = 3;
        int in = 17;
        float[] x = rand(n * in);
        float[] w = rand(5 * in);
        float[] b = rand(5);
        Path p = write("lin.safetensors", new WeightArray("linear.weight", new int[] {5, in}, w),
                new WeightArray("linear.bias", new int[] {5}, b));
        assertClose(run(HeadConfig.of(HeadType.LINEAR, p), x, n, in, 5), linear(x, n, in, w, 5, b));

        float[] sq = rand(in * in);
        Path p2 = write("sq.safetensors", new WeightArray("linear.weight", new int[] {in, in}, sq));
        float[] expected = linear(x, n, in, sq, in, null);
        for (int i = 0; i < expected.length; i++) {
            expected[i] += x[i];
        }
        assertClose(run(HeadConfig.of(HeadType.LINEAR, p2).withResidual(true), x, n, in, in), expected);
        assertThatThrownBy(() -> Heads.load(HeadConfig.of(HeadType.LINEAR, p).withResidual(true), backend, in))
                .hasMessageContaining("residual needs in = out").hasMessageContaining("in 17, out 5");
    }

    @Test
    void ffnWithUpscaledIntermediate() throws Exception {
        int n = 2;
        int in = 16;
        int m = 4;
        float[] x = rand(n * in);
        float[] up = rand(m * in * in);
        float[] upB = rand(m * in);
        float[] down = rand(in * m * in);
        float[] downB = rand(in);
        Path p = write("ffn.safetensors", new WeightArray("ffn.up.weight", new int[] {m * in, in}, up),
                new WeightArray("ffn.up.bias", new int[] {m * in}, upB),
                new WeightArray("ffn.down.weight", new int[] {in, m * in}, down),
                new WeightArray("ffn.down.bias", new int[] {in}, downB));
        float[] h = linear(x, n, in, up, m * in, upB);
        for (int i = 0; i < h.length; i++) {
            h[i] = ActivationsReference.gelu(h[i]);
        }
        float[] expected = linear(h, n, m * in, down, in, downB);
        assertClose(run(HeadConfig.of(HeadType.FFN, p), x, n, in, in), expected);
        for (int i = 0; i < expected.length; i++) {
            expected[i] += x[i];
        }
        assertClose(run(HeadConfig.of(HeadType.FFN, p).withResidual(true), x, n, in, in), expected);
    }

    @Test
    void gluWithGeluAndSigmoidGates() throws Exception {
        int n = 3;
        int in = 7;
        int h = 5;
        int out = 3;
        float[] x = rand(n * in);
        float[] wIn = rand(2 * h * in);
        float[] wOut = rand(out * h);
        float[] bOut = rand(out);
        Path p = write("glu.safetensors", new WeightArray("glu.in.weight", new int[] {2 * h, in}, wIn),
                new WeightArray("glu.out.weight", new int[] {out, h}, wOut),
                new WeightArray("glu.out.bias", new int[] {out}, bOut));
        float[] ab = linear(x, n, in, wIn, 2 * h, null);
        for (GluGate gate : GluGate.values()) {
            float[] g = new float[n * h];
            ActivationsReference.glu(ab, gate, g, n, h);
            assertClose(run(HeadConfig.glu(p, gate), x, n, in, out), linear(g, n, h, wOut, out, bOut));
        }
    }

    @Test
    void lowRankAdapterAddsUVTransposeE() throws Exception {
        int n = 2;
        int d = 33;
        int rank = 3;
        float[] e = rand(n * d);
        float[] u = rand(d * rank);
        float[] v = rand(d * rank);
        Path p = write("adapter.safetensors", new WeightArray("adapter.up", new int[] {d, rank}, u),
                new WeightArray("adapter.down", new int[] {d, rank}, v));
        float[] expected = new float[n * d];
        for (int i = 0; i < n; i++) {
            double[] t = new double[rank];
            for (int k = 0; k < rank; k++) {
                for (int c = 0; c < d; c++) {
                    t[k] += (double) v[c * rank + k] * e[i * d + c];     // V^T e
                }
            }
            for (int c = 0; c < d; c++) {
                double s = e[i * d + c];
                for (int k = 0; k < rank; k++) {
                    s += u[c * rank + k] * t[k];                        // + U (V^T e)
                }
                expected[i * d + c] = (float) s;
            }
        }
        assertClose(run(HeadConfig.of(HeadType.LOW_RANK_ADAPTER, p), e, n, d, d), expected);
        Path zero = write("zero.safetensors", new WeightArray("adapter.up", new int[] {d, rank}, new float[d * rank]),
                new WeightArray("adapter.down", new int[] {d, rank}, v));
        assertThat(run(HeadConfig.of(HeadType.LOW_RANK_ADAPTER, zero), e, n, d, d)).containsExactly(e);
    }

    @Test
    void missingOrMisShapedHeadTensorsFailAtLoad() throws Exception {
        Path p = write("bad.safetensors", new WeightArray("linear.weight", new int[] {4, 9}, new float[36]));
        assertThatThrownBy(() -> Heads.load(HeadConfig.of(HeadType.LINEAR, p), backend, 8))
                .hasMessageContaining("linear.weight").hasMessageContaining("expected shape [?, 8]")
                .hasMessageContaining("found [4, 9]");
        assertThatThrownBy(() -> Heads.load(HeadConfig.of(HeadType.FFN, p), backend, 8))
                .hasMessageContaining("ffn.up.weight").hasMessageContaining("missing");
        assertThat(Heads.load(HeadConfig.none(), backend, 8)).isNull();
    }
}
