package io.inflow.gpu.bench;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.quant.Dyadic;
import io.inflow.gpu.quant.Int8Linear;
import io.inflow.gpu.quant.Requant;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Which layout runs an exact INT8 x INT8 -> INT32 GEMM fastest on the JDK's Vector API (the question: there
 * is no int8 dot-product instruction to reach, so which widening is best?). Same shapes as MiniLM's linears, same
 * threads, every layout checked against a scalar long reference on one row first:
 * <ul>
 *   <li>{@code float-sgemm}: what {@code FastQuantizedOps.linear} does (int8 -> float, the packed float SGEMM in chunks
 *       of k <= 1024 where float sums of these products are exact, back to int32; the requant epilogue included);</li>
 *   <li>{@code int32-lanes}: bytes widened once to int arrays, dot products in {@code IntVector} (mul + add), 1 row x 4
 *       columns per step;</li>
 *   <li>{@code int16-lanes}: bytes widened once to shorts, {@code ShortVector} products (127 x 127 fits 16 bits)
 *       widened to int lanes before adding (S2I, two halves);</li>
 *   <li>{@code int8-lanes}: the bytes as they are, {@code ByteVector} -> int (B2I, four parts) per operand.</li>
 * </ul>
 * Prints GOP/s (2 m n k per GEMM) next to the float SGEMM on the same shape and the FP32 peak.
 *
 * <p>Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec
 * -Dbench.main=io.inflow.gpu.bench.Int8GemmLayoutBenchmark -Dbench.args="2"} (argument: threads)
 */
public final class Int8GemmLayoutBenchmark {
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_PREFERRED;

    private Int8GemmLayoutBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int[][] shapes = {{1024, 1152, 384}, {1024, 1536, 384}, {1024, 384, 1536}};
        CpuPeak peak = CpuPeak.of(threads);
        System.out.println(peak.describe() + "; int lanes " + I.length() + ", short lanes " + S.length());
        System.out.printf("%-16s %10s %10s %10s %10s %12s%n", "m x n x k", "float-sgemm", "int32-lanes", "int16-lanes",
                "int8-lanes", "f32 SGEMM");
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (Backend backend = new FastCpuBackend(null, threads)) {
            for (int[] s : shapes) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
                Random r = new Random(m * 31L + n * 7L + k);
                byte[] a = new byte[m * k];
                byte[] w = new byte[n * k];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (byte) (r.nextInt(255) - 127);
                }
                for (int i = 0; i < w.length; i++) {
                    w[i] = (byte) (r.nextInt(255) - 127);
                }
                long[] want = new long[n];
                for (int j = 0; j < n; j++) {
                    for (int p = 0; p < k; p++) {
                        want[j] += a[p] * w[j * k + p];
                    }
                }
                double ops = 2.0 * m * n * k;
                // float-sgemm through the backend, identity requant to INT32
                Int8Linear lin = new Int8Linear(n, k, w, new int[n], new float[n], 1f);
                Requant id = Requant.uniform(new Dyadic(1, 0), n, Requant.Output.INT32);
                double sg;
                try (Tensor x = backend.allocate(DType.INT8, m, k); Tensor out = backend.allocate(DType.INT32, m, n)) {
                    x.copyFrom(a);
                    backend.quantized().linear(x, lin, id, out);
                    check("float-sgemm", want, Arrays.copyOf(out.toIntArray(), n));
                    sg = BenchTiming.secondsPerCall(() -> backend.quantized().linear(x, lin, id, out), 1.5);
                }
                int[] ai = new int[a.length];
                int[] wi = new int[w.length];
                short[] as = new short[a.length];
                short[] ws = new short[w.length];
                for (int i = 0; i < a.length; i++) {
                    ai[i] = a[i];
                    as[i] = a[i];
                }
                for (int i = 0; i < w.length; i++) {
                    wi[i] = w[i];
                    ws[i] = w[i];
                }
                int[] c = new int[m * n];
                Kernel int32 = (i0, i1) -> int32Rows(ai, wi, c, i0, i1, n, k);
                Kernel int16 = (i0, i1) -> int16Rows(as, ws, c, i0, i1, n, k);
                Kernel int8 = (i0, i1) -> int8Rows(a, w, c, i0, i1, n, k);
                double[] sec = new double[3];
                Kernel[] kernels = {int32, int16, int8};
                String[] names = {"int32-lanes", "int16-lanes", "int8-lanes"};
                for (int v = 0; v < 3; v++) {
                    Arrays.fill(c, 0);
                    kernels[v].rows(0, 1);
                    check(names[v], want, Arrays.copyOf(c, n));
                    Kernel kk = kernels[v];
                    sec[v] = BenchTiming.secondsPerCall(() -> parallel(pool, threads, m, kk), 1.5);
                }
                double f32 = floatSgemm(m, n, k, threads);
                System.out.printf("%-16s %10.1f %10.1f %10.1f %10.1f %12.1f   GOP/s (%% of the FP32 peak: %.0f%%"
                        + " / %.0f%% / %.0f%% / %.0f%% / %.0f%%)%n", m + "x" + n + "x" + k, ops / sg / 1e9,
                        ops / sec[0] / 1e9, ops / sec[1] / 1e9, ops / sec[2] / 1e9, f32,
                        100 * ops / sg / 1e9 / peak.gflops(), 100 * ops / sec[0] / 1e9 / peak.gflops(),
                        100 * ops / sec[1] / 1e9 / peak.gflops(), 100 * ops / sec[2] / 1e9 / peak.gflops(),
                        100 * f32 / peak.gflops());
            }
        } finally {
            pool.shutdown();
        }
    }

    interface Kernel {
        void rows(int i0, int i1);
    }

    private static void parallel(ExecutorService pool, int threads, int m, Kernel k) throws Exception {
        Future<?>[] f = new Future<?>[threads];
        int per = (m + threads - 1) / threads;
        for (int t = 0; t < threads; t++) {
            int i0 = Math.min(m, t * per);
            int i1 = Math.min(m, i0 + per);
            f[t] = pool.submit(() -> k.rows(i0, i1));
        }
        for (Future<?> x : f) {
            x.get();
        }
    }

    private static void check(String name, long[] want, int[] got) {
        for (int j = 0; j < want.length; j++) {
            if (want[j] != got[j]) {
                throw new AssertionError(name + ": row 0 column " + j + " is " + got[j] + ", expected " + want[j]);
            }
        }
    }

    /** Dot products in int lanes, 1 row x 4 columns per step. */
    private static void int32Rows(int[] a, int[] w, int[] c, int i0, int i1, int n, int k) {
        int bound = I.loopBound(k);
        for (int i = i0; i < i1; i++) {
            int ao = i * k;
            for (int j = 0; j + 3 < n; j += 4) {
                IntVector s0 = IntVector.zero(I);
                IntVector s1 = IntVector.zero(I);
                IntVector s2 = IntVector.zero(I);
                IntVector s3 = IntVector.zero(I);
                for (int p = 0; p < bound; p += I.length()) {
                    IntVector x = IntVector.fromArray(I, a, ao + p);
                    s0 = s0.add(x.mul(IntVector.fromArray(I, w, j * k + p)));
                    s1 = s1.add(x.mul(IntVector.fromArray(I, w, (j + 1) * k + p)));
                    s2 = s2.add(x.mul(IntVector.fromArray(I, w, (j + 2) * k + p)));
                    s3 = s3.add(x.mul(IntVector.fromArray(I, w, (j + 3) * k + p)));
                }
                c[i * n + j] = s0.reduceLanes(VectorOperators.ADD);
                c[i * n + j + 1] = s1.reduceLanes(VectorOperators.ADD);
                c[i * n + j + 2] = s2.reduceLanes(VectorOperators.ADD);
                c[i * n + j + 3] = s3.reduceLanes(VectorOperators.ADD);
            }
        }
    }

    /** Products in short lanes, widened to int lanes (two halves) before adding; 1 row x 2 columns per step. */
    private static void int16Rows(short[] a, short[] w, int[] c, int i0, int i1, int n, int k) {
        int bound = S.loopBound(k);
        for (int i = i0; i < i1; i++) {
            int ao = i * k;
            for (int j = 0; j + 1 < n; j += 2) {
                IntVector s0 = IntVector.zero(I);
                IntVector s1 = IntVector.zero(I);
                for (int p = 0; p < bound; p += S.length()) {
                    ShortVector x = ShortVector.fromArray(S, a, ao + p);
                    ShortVector p0 = x.mul(ShortVector.fromArray(S, w, j * k + p));
                    ShortVector p1 = x.mul(ShortVector.fromArray(S, w, (j + 1) * k + p));
                    s0 = s0.add(p0.convertShape(VectorOperators.S2I, I, 0)).add(p0.convertShape(VectorOperators.S2I, I, 1));
                    s1 = s1.add(p1.convertShape(VectorOperators.S2I, I, 0)).add(p1.convertShape(VectorOperators.S2I, I, 1));
                }
                c[i * n + j] = s0.reduceLanes(VectorOperators.ADD);
                c[i * n + j + 1] = s1.reduceLanes(VectorOperators.ADD);
            }
        }
    }

    /** The bytes as stored: each operand widened B2I in four parts per step, 1 row x 2 columns. */
    private static void int8Rows(byte[] a, byte[] w, int[] c, int i0, int i1, int n, int k) {
        int bound = B.loopBound(k);
        int parts = B.length() / I.length();
        for (int i = i0; i < i1; i++) {
            int ao = i * k;
            for (int j = 0; j + 1 < n; j += 2) {
                IntVector s0 = IntVector.zero(I);
                IntVector s1 = IntVector.zero(I);
                for (int p = 0; p < bound; p += B.length()) {
                    ByteVector x = ByteVector.fromArray(B, a, ao + p);
                    ByteVector y0 = ByteVector.fromArray(B, w, j * k + p);
                    ByteVector y1 = ByteVector.fromArray(B, w, (j + 1) * k + p);
                    for (int part = 0; part < parts; part++) {
                        IntVector xi = (IntVector) x.convertShape(VectorOperators.B2I, I, part);
                        s0 = s0.add(xi.mul((IntVector) y0.convertShape(VectorOperators.B2I, I, part)));
                        s1 = s1.add(xi.mul((IntVector) y1.convertShape(VectorOperators.B2I, I, part)));
                    }
                }
                c[i * n + j] = s0.reduceLanes(VectorOperators.ADD);
                c[i * n + j + 1] = s1.reduceLanes(VectorOperators.ADD);
            }
        }
    }

    /** The float SGEMM alone on the same shape (GFLOP/s), as {@link SgemmBenchmark} measures it. */
    private static double floatSgemm(int m, int n, int k, int threads) throws Exception {
        try (io.inflow.gpu.backend.cpu.fast.ParallelRunner runner = new io.inflow.gpu.backend.cpu.fast.ParallelRunner(threads)) {
            Random r = new Random(1);
            float[] a = new float[m * k];
            float[] b = new float[n * k];
            for (int i = 0; i < a.length; i++) {
                a[i] = r.nextFloat() - 0.5f;
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = r.nextFloat() - 0.5f;
            }
            long aAddr = org.apache.arrow.memory.util.MemoryUtil.allocateMemory(4L * a.length);
            long bAddr = org.apache.arrow.memory.util.MemoryUtil.allocateMemory(4L * b.length);
            long cAddr = org.apache.arrow.memory.util.MemoryUtil.allocateMemory(4L * m * n);
            try {
                io.inflow.gpu.tensor.NativeMemory.copyFromArray(a, 0, aAddr, a.length);
                io.inflow.gpu.tensor.NativeMemory.copyFromArray(b, 0, bAddr, b.length);
                io.inflow.gpu.backend.cpu.fast.PackedMatrix pb = io.inflow.gpu.backend.cpu.fast.PackedMatrix.pack(bAddr,
                        n, k, true);
                double sec = BenchTiming.secondsPerCall(() -> io.inflow.gpu.backend.cpu.fast.Sgemm.multiply(aAddr, m,
                        k, pb, null, cAddr, runner), 1.5);
                return 2.0 * m * n * k / sec / 1e9;
            } finally {
                org.apache.arrow.memory.util.MemoryUtil.freeMemory(aAddr);
                org.apache.arrow.memory.util.MemoryUtil.freeMemory(bAddr);
                org.apache.arrow.memory.util.MemoryUtil.freeMemory(cAddr);
            }
        }
    }
}
