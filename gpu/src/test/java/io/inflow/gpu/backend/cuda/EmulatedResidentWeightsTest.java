package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.TransformerOps;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.EmulatedDevice;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Resident 16-bit weights and the fused QKV projection ({@link ResidentWeights}) on the emulated device: the GEMM that
 * reads a weight rounded once ({@code gemm_*_f32_w16}) gives bit for bit what the GEMM rounding the float32 weight in
 * every call gives (the same round-to-nearest-even of the same values, the same products in the same order), and
 * the fused self-attention (one GEMM with the {@code [3d, d]} weight, {@code attention_f32} reading the interleaved
 * rows with stride 3d) bit for bit what three projections and {@code attention_f32} on separate q, k, v give. Edge
 * sizes: not multiples of the GEMM's 64 x 64 x 32 tiles, nor of the attention's 16-query / 32-key blocks. Also: the
 * copies are freed with their weights, and views are left to the per-call path.
 */
class EmulatedResidentWeightsTest {
    private static final int[][] SIZES = {{1, 1, 1}, {17, 33, 31}, {70, 65, 97}, {64, 128, 64}, {5, 130, 200}};

    @ParameterizedTest
    @EnumSource(GemmPrecision.class)
    void linearOnAResidentWeightIsBitIdenticalToRoundingPerCall(GemmPrecision precision) {
        CountingDeviceApi device = new CountingDeviceApi(EmulatedDevice.sharedOrSkip());
        Random rnd = new Random(11);
        try (Backend b = device.backend(precision)) {
            TransformerOps ops = b.transformer();
            for (int[] mnk : SIZES) {
                int m = mnk[0];
                int n = mnk[1];
                int k = mnk[2];
                String what = precision + " m=" + m + " n=" + n + " k=" + k;
                try (Tensor x = b.upload(normal(rnd, m * k, 3), m, k);
                     Tensor w = b.upload(normal(rnd, n * k, 0.5f), n, k);
                     Tensor bias = b.upload(normal(rnd, n, 1), n);
                     Tensor perCall = b.allocate(DType.FLOAT32, m, n);
                     Tensor resident = b.allocate(DType.FLOAT32, m, n)) {
                    for (int variant = 0; variant < 3; variant++) {
                        run(ops, variant, x, w, bias, perCall);
                        ops.prepareWeights(w);
                        device.reset();
                        run(ops, variant, x, w, bias, resident);
                        assertThat(device.launchesByKernel()).as(what).containsOnlyKeys(precision.residentKernel());
                        assertThat(bits(b.download(resident))).as(what + " variant " + variant)
                                .isEqualTo(bits(b.download(perCall)));
                        CudaTestAccess.releaseResidentWeights(b);   // the next variant starts from the per-call path
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GemmPrecision.class)
    void fusedSelfAttentionIsBitIdenticalToThreeProjections(GemmPrecision precision) {
        CountingDeviceApi device = new CountingDeviceApi(EmulatedDevice.sharedOrSkip());
        Random rnd = new Random(5);
        int[][] shapes = {{3, 37, 64, 4}, {2, 50, 96, 3}, {1, 1, 32, 2}};   // batch, seq, d, heads
        try (Backend b = device.backend(precision)) {
            for (int[] shape : shapes) {
                for (int biases = 0; biases < 3; biases++) {   // all, q and v only, none
                    selfAttentionCase(b, device, precision, rnd, shape, biases);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GemmPrecision.class)
    void copiesAreFreedWithTheirWeights(GemmPrecision precision) {
        CountingDeviceApi device = new CountingDeviceApi(EmulatedDevice.sharedOrSkip());
        Random rnd = new Random(3);
        try (Backend b = device.backend(precision)) {
            CudaBackend cuda = (CudaBackend) b;
            TransformerOps ops = b.transformer();
            Tensor w = b.upload(normal(rnd, 40 * 24, 1), 40, 24);
            Tensor[] qkv = new Tensor[6];
            for (int i = 0; i < 6; i++) {
                qkv[i] = i % 2 == 0 ? b.upload(normal(rnd, 32 * 32, 1), 32, 32) : b.upload(normal(rnd, 32, 1), 32);
            }
            long weightsOnly = cuda.pool().usedBytes();
            ops.prepareWeights(w, w.view(0, 10, 24), qkv[1]);   // a view and a bias are left to the per-call path
            ops.prepareSelfAttention(qkv[0], qkv[1], qkv[2], qkv[3], qkv[4], qkv[5]);
            assertThat(CudaTestAccess.residentWeights(b)).containsExactly(1, 1);
            assertThat(cuda.pool().usedBytes()).isGreaterThan(weightsOnly);
            w.close();
            assertThat(CudaTestAccess.residentWeights(b)).containsExactly(0, 1);
            qkv[3].close();   // any of the six drops the fused projection
            assertThat(CudaTestAccess.residentWeights(b)).containsExactly(0, 0);
            for (Tensor t : qkv) {
                t.close();
            }
            assertThat(cuda.pool().usedBytes()).isZero();
        }
    }

    private static void selfAttentionCase(Backend b, CountingDeviceApi device, GemmPrecision precision, Random rnd,
                                          int[] shape, int biases) {
        int batch = shape[0];
        int seq = shape[1];
        int d = shape[2];
        int heads = shape[3];
        String what = precision + " b=" + batch + " s=" + seq + " d=" + d + " heads=" + heads + " biases=" + biases;
        TransformerOps ops = b.transformer();
        List<Tensor> open = new ArrayList<>();
        try {
            Tensor x = keep(open, b.upload(normal(rnd, batch * seq * d, 1), batch, seq, d));
            Tensor[] w = new Tensor[3];
            Tensor[] bias = new Tensor[3];
            for (int i = 0; i < 3; i++) {
                w[i] = keep(open, b.upload(normal(rnd, d * d, 0.2f), d, d));
                boolean withBias = biases == 0 || biases == 1 && i != 1;
                bias[i] = withBias ? keep(open, b.upload(normal(rnd, d, 0.5f), d)) : null;
            }
            int[] lengths = new int[batch];
            for (int r = 0; r < batch; r++) {
                lengths[r] = r == 1 ? 1 : Math.max(1, seq - 13 * r);
            }
            Tensor len = keep(open, b.upload(lengths, batch));
            Tensor qkv = keep(open, b.allocate(DType.FLOAT32, batch * seq, 3 * d));
            Tensor perCall = keep(open, b.allocate(DType.FLOAT32, batch, seq, d));
            Tensor fused = keep(open, b.allocate(DType.FLOAT32, batch, seq, d));
            ops.selfAttention(x, w[0], bias[0], w[1], bias[1], w[2], bias[2], len, heads, qkv, perCall);
            ops.prepareSelfAttention(w[0], bias[0], w[1], bias[1], w[2], bias[2]);
            device.reset();
            ops.selfAttention(x, w[0], bias[0], w[1], bias[1], w[2], bias[2], len, heads, qkv, fused);
            assertThat(device.launchesByKernel()).as(what)
                    .containsExactlyInAnyOrderEntriesOf(java.util.Map.of(precision.residentKernel(), 1,
                            "attention_f32", 1));
            assertThat(bits(b.download(fused))).as(what).isEqualTo(bits(b.download(perCall)));
        } finally {
            open.forEach(Tensor::close);
        }
    }

    /** 0: linear with bias, 1: linear without, 2: linearGelu. */
    private static void run(TransformerOps ops, int variant, Tensor x, Tensor w, Tensor bias, Tensor out) {
        switch (variant) {
            case 0 -> ops.linear(x, w, bias, out);
            case 1 -> ops.linear(x, w, null, out);
            default -> ops.linearGelu(x, w, bias, out);
        }
    }

    private static Tensor keep(List<Tensor> open, Tensor t) {
        open.add(t);
        return t;
    }

    private static float[] normal(Random rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian() * scale;
        }
        return v;
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
