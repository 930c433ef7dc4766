package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.cpu.reference.Erf;
import io.inflow.gpu.backend.cuda.kernels.GemmKernel.Epilogue;
import io.inflow.gpu.backend.cuda.kernels.GemmTcTestAccess;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.HalfFloats;
import io.inflow.gpu.tensor.Tensor;
import java.util.Random;

/**
 * One {@code gemm_tc.cu} GEMM on a device, checked element by element against a double-precision reference on the
 * same bf16-rounded inputs ({@code MatmulReference}'s formula: {@code sum_k a[i, k] w[j, k]}, then the epilogue).
 * Used by {@link EmulatedTensorCoreGemmTest} and, on emulators built from mutated sources, by
 * {@link EmulatedTensorCoreGemmMutationTest}.
 *
 * <p>Tolerance, per element, with {@code S = sum_k |a[i, k] w[j, k]|} (each product is exact in float: 8-bit
 * significands):
 * <ul>
 *   <li>{@link #ACCUMULATION_UNIT} {@code * K * S}: K float32 additions in any order, each off by at most one unit
 *       of the running sum's last place (2^-23 relative: covers round-to-nearest, 2^-24, and a tensor core that
 *       truncates);</li>
 *   <li>{@link #FLOAT_ROUNDING} {@code * 2 (S + |bias| + |residual|)}: the epilogue's two float additions;</li>
 *   <li>GELU: the error above times {@link #GELU_SLOPE} (the largest {@code |gelu'(x)|}), plus {@link #GELU_EVAL}
 *       {@code * |x|} for {@code erff} (within 2 ulp) and the three roundings of {@code x/2 (1 + erf(x/sqrt 2))};</li>
 *   <li>bf16 output: plus {@link #BF16_HALF_ULP} of the value (round to nearest: half an ulp of an 8-bit
 *       significand, 2^-8 relative at most).</li>
 * </ul>
 * A fragment-layout or barrier bug gives errors of the order of {@code S} (or NaN from the poisoned shared memory),
 * far beyond these bounds.
 */
final class TensorCoreGemmCase implements AutoCloseable {
    static final double ACCUMULATION_UNIT = 0x1p-23;
    static final double FLOAT_ROUNDING = 0x1p-24;
    static final double GELU_SLOPE = 1.13;
    static final double GELU_EVAL = 0x1p-21;
    static final double BF16_HALF_ULP = 0x1p-8;
    /** Elements past {@code c}'s {@code m x n} that must keep their sentinel (a store outside the guards). */
    private static final int SLACK = 64;
    private static final float SENTINEL = 12345.5f;

    private final CudaContext context;
    final CudaMemory memory;
    final KernelLauncher launcher;

    TensorCoreGemmCase(DeviceApi device) {
        this.context = CudaContext.on(device);
        this.memory = new CudaMemory(context, CudaBackendConfig.builder().poolBytes(64L << 20)
                .stagingBytes(4L << 20).syncAfterLaunch(true).build());
        this.launcher = new KernelLauncher(context, memory, true);
    }

    /**
     * {@code c = epilogue(a . w^T)} with random inputs of {@code seed}, {@code c} of dtype {@code out}, the tile
     * variant {@code tileRows} (0: the launcher's choice), {@code w} passed as a BFLOAT16 tensor or as the UINT8 bytes
     * of one ({@code wAsBytes}, as {@code ResidentWeights} keeps it). Throws an {@link AssertionError} starting with
     * "gemm_tc" and naming the first element out of bounds (or a store outside {@code c}).
     */
    void run(int m, int n, int k, Epilogue epilogue, DType out, int tileRows, boolean wAsBytes, long seed) {
        String what = "gemm_tc m=" + m + " n=" + n + " k=" + k + " " + epilogue + " -> " + out + " tile "
                + (tileRows == 0 ? "auto" : tileRows) + (wAsBytes ? " w as bytes" : "");
        Random rnd = new Random(seed);
        short[] a = bf16(rnd, m * k, 1.0);
        short[] w = bf16(rnd, n * k, 0.5);
        float[] bias = new float[n];
        for (int j = 0; j < n; j++) {
            bias[j] = (float) rnd.nextGaussian();
        }
        float[] residual = new float[m * n + SLACK];
        for (int i = 0; i < residual.length; i++) {
            residual[i] = i < m * n ? (epilogue == Epilogue.BIAS_RESIDUAL ? (float) rnd.nextGaussian() : Float.NaN)
                    : SENTINEL;
        }
        try (Tensor aInts = memory.upload(packed(a), packed(a).length);
             Tensor wInts = memory.upload(packed(w), packed(w).length);
             Tensor tBias = memory.upload(bias, n)) {
            Tensor ta = as(aInts, DType.BFLOAT16, m * k);
            Tensor tw = wAsBytes ? as(wInts, DType.UINT8, 2 * n * k) : as(wInts, DType.BFLOAT16, n * k);
            Tensor bArg = epilogue == Epilogue.NONE ? null : tBias;
            if (out == DType.FLOAT32) {
                try (Tensor c = memory.upload(residual, residual.length)) {
                    GemmTcTestAccess.launch(launcher, ta, tw, bArg, epilogue, c, m, n, k, tileRows);
                    check(what, a, w, bias, residual, memory.download(c), null, m, n, k, epilogue);
                }
            } else {
                int[] init = new int[(m * n + SLACK + 1) / 2];
                java.util.Arrays.fill(init, 0x7fc17fc1);   // bf16 NaN pairs: an element never stored stays NaN
                try (Tensor cInts = memory.upload(init, init.length)) {
                    Tensor c = as(cInts, DType.BFLOAT16, m * n);
                    GemmTcTestAccess.launch(launcher, ta, tw, bArg, epilogue, c, m, n, k, tileRows);
                    int[] got = memory.downloadInts(cInts);
                    float[] y = new float[m * n];
                    for (int i = 0; i < y.length; i++) {
                        y[i] = HalfFloats.bf16ToFloat((short) (got[i / 2] >>> (16 * (i % 2))));
                    }
                    for (int i = m * n; i < 2 * got.length; i++) {
                        if ((short) (got[i / 2] >>> (16 * (i % 2))) != (short) 0x7fc1) {
                            throw new AssertionError(what + ": stored past c's " + m * n + " elements at " + i);
                        }
                    }
                    check(what, a, w, bias, residual, y, out, m, n, k, epilogue);
                }
            }
        }
    }

    private static void check(String what, short[] a, short[] w, float[] bias, float[] residual, float[] y,
                              DType out, int m, int n, int k, Epilogue epilogue) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double prod = (double) HalfFloats.bf16ToFloat(a[i * k + p]) * HalfFloats.bf16ToFloat(w[j * k + p]);
                    sum += prod;
                    s += Math.abs(prod);
                }
                double b = epilogue == Epilogue.NONE ? 0 : bias[j];
                double r = epilogue == Epilogue.BIAS_RESIDUAL ? residual[i * n + j] : 0;
                double x = sum + b + r;
                double err = k * ACCUMULATION_UNIT * s + 2 * FLOAT_ROUNDING * (s + Math.abs(b) + Math.abs(r));
                double expect = x;
                if (epilogue == Epilogue.BIAS_GELU) {
                    expect = 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2)));
                    err = GELU_SLOPE * err + GELU_EVAL * Math.abs(x);
                }
                if (out == DType.BFLOAT16) {
                    err += BF16_HALF_ULP * (Math.abs(expect) + err);
                }
                err += 1e-30;
                double got = y[i * n + j];
                if (!(Math.abs(got - expect) <= err)) {
                    throw new AssertionError(what + ": c[" + i + ", " + j + "] = " + got + ", expected " + expect
                            + " (error " + Math.abs(got - expect) + " > bound " + err + ")");
                }
            }
        }
        if (out == null) {
            for (int i = m * n; i < y.length; i++) {
                if (y[i] != SENTINEL) {
                    throw new AssertionError(what + ": stored past c's " + m * n + " elements at " + i);
                }
            }
        }
    }

    /** A device tensor of another dtype over the same memory (released with {@code owner}). */
    static Tensor as(Tensor owner, DType dtype, int count) {
        return Tensor.owning(owner.address(), owner.byteLength(), Tensor.Location.DEVICE, () -> { }, dtype, count);
    }

    /** {@code count} bf16 values, normal with standard deviation {@code sd}, rounded to nearest even. */
    static short[] bf16(Random rnd, int count, double sd) {
        short[] v = new short[count];
        for (int i = 0; i < count; i++) {
            v[i] = HalfFloats.floatToBf16((float) (rnd.nextGaussian() * sd));
        }
        return v;
    }

    /** bf16 values two per int, element 2i in the low half (little-endian memory order); at least one int. */
    static int[] packed(short[] v) {
        int[] p = new int[Math.max(1, (v.length + 1) / 2)];
        for (int i = 0; i < v.length; i++) {
            p[i / 2] |= (v[i] & 0xffff) << (16 * (i % 2));
        }
        return p;
    }

    @Override
    public void close() {
        memory.close();
    }
}
