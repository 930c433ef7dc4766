package io.inflow.gpu.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.cpu.reference.AttentionReference;
import io.inflow.gpu.backend.cuda.kernels.FlashAttentionKernel;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.HalfFloats;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.EmulatedDevice;
import java.util.Arrays;
import java.util.Random;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

/**
 * {@code flash_attention.cu} (FlashAttention-2 on bf16 tensor cores, {@link FlashAttentionKernel}) on the emulated
 * device against the CPU twin {@link AttentionReference} (float32, double accumulation) run on the same bf16-rounded
 * q, k and v. The kernel's own roundings are what the tolerance allows:
 * <ul>
 *   <li>{@link #P_ROUNDING}: each probability {@code p_j} is rounded to bf16 before {@code P V} (the row sum stays
 *       fp32), so the output is {@code sum_j w_j (1 + e_j) v_j} with {@code |e_j| <= 2^-9}: an error of at most
 *       {@code 2^-9 max_j |v_j|} per column (the weights {@code w_j} sum to 1);</li>
 *   <li>{@link #OUTPUT_ROUNDING}: the output is rounded to bf16 once, relative error {@code 2^-9} of a value that is a
 *       convex combination of the column's valid v, so at most {@code 2^-9 max_j |v_j|};</li>
 *   <li>{@link #FP32_SLACK}: the fp32 scores (exact bf16 products, {@code head_dim} fp32 additions of terms up to
 *       {@code |q||k|}), the fp32 scale, {@code exp2f} (2 ulp on a GPU) and the fp32 accumulation of
 *       {@code P V} and of the row sums: each a few {@code head_dim * 2^-24} relative, far below
 *       {@code 2^-12} for the scores used here ({@code |s| < 40}), kept as a margin.</li>
 * </ul>
 * So every output element {@code out[i, h*hd + c]} of a valid query must satisfy
 * {@code |out - ref| <= (2^-9 + 2^-9 + 2^-12) max_{j < len} |v[j, h*hd + c]| + ABS_FLOOR}; a dropped or duplicated
 * key, a wrong mask or scale, or a misplaced fragment element shows as errors of order {@code max |v| / len}, well
 * above it at the lengths used. Padded query rows must be exact zeros (bf16 bits 0), as {@code attention_f32} and the
 * CPU twin write them; the padded tokens' q, k and v are filled with NaN so that a kernel reading a masked key's k
 * or v (or leaking a padded query row into the output) fails.
 *
 * <p>Cases: head_dim 32 at the MiniLM shape (d = 384, 12 heads, seq 128, lengths {128, 1, 77, 64}), head_dim 32 over
 * three key tiles (every double-buffer stage reused) with large scores (the running max moves between tiles),
 * head_dim 64 and 128 on sequences that are not multiples of 64 (97, 50), rows of length 1.
 */
class EmulatedFlashAttentionTest {
    /** Unit roundoff of bf16 (8-bit significand): each probability is rounded to bf16 before {@code P V}. */
    static final double P_ROUNDING = 0x1p-9;
    /** Unit roundoff of bf16: the output is stored as bf16. */
    static final double OUTPUT_ROUNDING = 0x1p-9;
    /** Margin for the fp32 scores, exp2f and accumulations (each far below it at the sizes tested). */
    static final double FP32_SLACK = 0x1p-12;
    /** Absolute floor: columns whose valid v are all tiny (never needed by the data here, kept for safety). */
    static final double ABS_FLOOR = 1e-6;

    /** One attention problem: sizes, lengths, the q scale (larger: peakier softmax) and a seed. */
    record Case(String name, int seq, int heads, int headDim, int[] lengths, float qScale, long seed) {
        int batch() {
            return lengths.length;
        }
    }

    static final Case MINILM = new Case("MiniLM head_dim 32", 128, 12, 32, new int[] {128, 1, 77, 64}, 1.5f, 1);
    static final Case THREE_TILES = new Case("head_dim 32 over three key tiles, large scores", 200, 2, 32,
            new int[] {200, 129, 1}, 5f, 2);
    static final Case HD64 = new Case("head_dim 64, seq 97", 97, 2, 64, new int[] {97, 50}, 1.5f, 3);
    static final Case HD128 = new Case("head_dim 128, seq 50", 50, 2, 128, new int[] {50, 1, 33}, 1.5f, 4);
    static final Case HD128_TWO_TILES = new Case("head_dim 128, seq 97", 97, 1, 128, new int[] {97, 65}, 2f, 5);

    @Test
    void headDim32AtTheMiniLmShapeMatchesTheReference() {
        check(EmulatedDevice.sharedOrSkip(), MINILM);
    }

    @Test
    void headDim32OverThreeKeyTilesWithLargeScoresMatchesTheReference() {
        check(EmulatedDevice.sharedOrSkip(), THREE_TILES);
    }

    @Test
    void headDim64OnASequenceNotAMultipleOf64MatchesTheReference() {
        check(EmulatedDevice.sharedOrSkip(), HD64);
    }

    @Test
    void headDim128MatchesTheReference() {
        EmulatedDevice device = EmulatedDevice.sharedOrSkip();
        check(device, HD128);
        check(device, HD128_TWO_TILES);
    }

    @Test
    void launcherRefusesUnsupportedHeadDimsAndWrongTensors() {
        assertThat(FlashAttentionKernel.supports(32)).isTrue();
        assertThat(FlashAttentionKernel.supports(64)).isTrue();
        assertThat(FlashAttentionKernel.supports(128)).isTrue();
        assertThat(FlashAttentionKernel.supports(16)).isFalse();
        assertThat(FlashAttentionKernel.supports(96)).isFalse();
        assertThat(FlashAttentionKernel.sharedBytes(128)).isEqualTo(87_040);
        EmulatedDevice device = EmulatedDevice.sharedOrSkip();
        try (Session s = new Session(device);
             Tensor qkv = s.memory.allocate(DType.BFLOAT16, 2 * 8, 3 * 64);
             Tensor f32 = s.memory.allocate(DType.FLOAT32, 2 * 8, 3 * 64);
             Tensor out = s.memory.allocate(DType.BFLOAT16, 2 * 8, 64);
             Tensor lengths = s.memory.upload(new int[] {8, 8}, 2);
             Tensor one = s.memory.upload(new int[] {8}, 1)) {
            assertThatThrownBy(() -> FlashAttentionKernel.launch(s.launcher, qkv, lengths, out, 2, 8, 4, 16))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32, 64 and 128");
            assertThatThrownBy(() -> FlashAttentionKernel.launch(s.launcher, f32, lengths, out, 2, 8, 2, 32))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("qkv must be BFLOAT16");
            assertThatThrownBy(() -> FlashAttentionKernel.launch(s.launcher, qkv, lengths, out, 2, 8, 2, 64))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("qkv must be");
            Tensor shifted = qkv.view(1, 8, 3 * 64);   // 2 bytes off: cp.async needs 16
            assertThatThrownBy(() -> FlashAttentionKernel.launch(s.launcher, shifted, one, out.view(0, 8, 64), 1, 8,
                    2, 32)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16-byte aligned");
        }
    }

    /**
     * Runs {@code c} on {@code device} and compares with the reference; throws an {@link AssertionError} naming the
     * case and the first element out of bound (used by {@link EmulatedFlashAttentionMutationTest} too).
     */
    static void check(DeviceApi device, Case c) {
        int b = c.batch();
        int s = c.seq();
        int hd = c.headDim();
        int d = c.heads() * hd;
        int rows = b * s;
        Random rnd = new Random(c.seed());
        float[] q = new float[rows * d];
        float[] k = new float[rows * d];
        float[] v = new float[rows * d];
        for (int i = 0; i < q.length; i++) {
            q[i] = HalfFloats.roundToBf16((float) rnd.nextGaussian() * c.qScale());
            k[i] = HalfFloats.roundToBf16((float) rnd.nextGaussian());
            v[i] = HalfFloats.roundToBf16((float) (rnd.nextGaussian() * 2));
        }
        short[] qkv = new short[rows * 3 * d];
        for (int bi = 0; bi < b; bi++) {
            for (int t = 0; t < s; t++) {
                int row = bi * s + t;
                boolean padded = t >= c.lengths()[bi];
                for (int col = 0; col < d; col++) {
                    qkv[row * 3 * d + col] = bits(padded ? Float.NaN : q[row * d + col]);
                    qkv[row * 3 * d + d + col] = bits(padded ? Float.NaN : k[row * d + col]);
                    qkv[row * 3 * d + 2 * d + col] = bits(padded ? Float.NaN : v[row * d + col]);
                }
            }
        }
        float[] ref = new float[rows * d];
        AttentionReference.attention(q, k, v, c.lengths(), ref, b, s, c.heads(), hd);
        short[] out;
        try (Session session = new Session(device)) {
            out = session.run(qkv, c.lengths(), b, s, c.heads(), hd);
        }
        double worst = 0;
        for (int bi = 0; bi < b; bi++) {
            int len = c.lengths()[bi];
            for (int h = 0; h < c.heads(); h++) {
                for (int col = 0; col < hd; col++) {
                    int dc = h * hd + col;
                    double maxV = 0;
                    for (int j = 0; j < len; j++) {
                        maxV = Math.max(maxV, Math.abs(v[(bi * s + j) * d + dc]));
                    }
                    double bound = (P_ROUNDING + OUTPUT_ROUNDING + FP32_SLACK) * maxV + ABS_FLOOR;
                    for (int i = 0; i < s; i++) {
                        int idx = (bi * s + i) * d + dc;
                        String where = c.name() + ": out[b=" + bi + ", i=" + i + ", head " + h + ", col " + col
                                + "] (length " + len + ")";
                        if (i >= len) {
                            if (out[idx] != 0) {
                                throw new AssertionError(where + " is a padded query row: must be 0, got bf16 bits 0x"
                                        + Integer.toHexString(out[idx] & 0xffff));
                            }
                            continue;
                        }
                        double got = HalfFloats.bf16ToFloat(out[idx]);
                        double err = Math.abs(got - ref[idx]);
                        if (!(err <= bound)) {
                            throw new AssertionError(where + " = " + got + ", reference " + ref[idx] + ", error " + err
                                    + " > bound " + bound);
                        }
                        worst = Math.max(worst, (err - ABS_FLOOR) / (bound - ABS_FLOOR));
                    }
                }
            }
        }
        System.out.printf("flash attention %s: worst error %.2f of the bound%n", c.name(), worst);
    }

    private static short bits(float x) {
        return HalfFloats.floatToBf16(x);
    }

    /** A device memory pool and launcher on {@code device} (the kernel is called directly, not through an op). */
    static final class Session implements AutoCloseable {
        final CudaMemory memory;
        final KernelLauncher launcher;
        private final BufferAllocator host = new RootAllocator();

        Session(DeviceApi device) {
            CudaContext context = CudaContext.on(device);
            CudaBackendConfig config = CudaBackendConfig.builder().poolBytes(64L << 20).stagingBytes(4L << 20)
                    .syncAfterLaunch(true).build();
            this.memory = new CudaMemory(context, config);
            this.launcher = new KernelLauncher(context, memory, true);
        }

        /** Uploads qkv (bf16 bits) and lengths, launches, returns out's bf16 bits. */
        short[] run(short[] qkvBits, int[] lengths, int batch, int seq, int heads, int headDim) {
            int rows = batch * seq;
            int d = heads * headDim;
            try (Tensor qkv = memory.allocate(DType.BFLOAT16, rows, 3 * d);
                 Tensor out = memory.allocate(DType.BFLOAT16, rows, d);
                 Tensor len = memory.upload(lengths, batch)) {
                toDevice(qkvBits, qkv);
                short[] poison = new short[rows * d];
                Arrays.fill(poison, (short) 0x7fc1);   // NaN: every element must be written
                toDevice(poison, out);
                FlashAttentionKernel.launch(launcher, qkv, len, out, batch, seq, heads, headDim);
                return fromDevice(out);
            }
        }

        private void toDevice(short[] bits, Tensor dst) {
            try (ArrowBuf buf = host.buffer(2L * bits.length)) {
                for (int i = 0; i < bits.length; i++) {
                    buf.setShort(2L * i, bits[i]);
                }
                memory.copy(Tensor.wrap(buf, DType.BFLOAT16, dst.shape()), dst);
            }
        }

        private short[] fromDevice(Tensor src) {
            int n = Math.toIntExact(src.elementCount());
            try (ArrowBuf buf = host.buffer(2L * n)) {
                memory.copy(src, Tensor.wrap(buf, DType.BFLOAT16, src.shape()));
                short[] bits = new short[n];
                for (int i = 0; i < n; i++) {
                    bits[i] = buf.getShort(2L * i);
                }
                return bits;
            }
        }

        @Override
        public void close() {
            try {
                memory.close();
            } finally {
                host.close();
            }
        }
    }
}
