package io.inflow.gpu.bench;

import io.inflow.gpu.backend.cpu.fast.PackedMatrix;
import io.inflow.gpu.backend.cpu.fast.ParallelRunner;
import io.inflow.gpu.backend.cpu.fast.Sgemm;
import io.inflow.gpu.backend.cpu.reference.MatmulReference;
import io.inflow.gpu.tensor.NativeMemory;
import java.util.Random;

/**
 * SGEMM throughput of the fast CPU kernel on the encoder's Linear shapes (GFLOP/s), after checking one
 * result against the reference. Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec
 * -Dbench.main=io.inflow.gpu.bench.SgemmBenchmark -Dbench.args="2"} (argument: threads).
 */
public final class SgemmBenchmark {
    private SgemmBenchmark() {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int[][] shapes = {{4096, 384, 384}, {4096, 1536, 384}, {4096, 384, 1536}, {16, 1536, 384}, {128, 384, 384}};
        try (ParallelRunner runner = new ParallelRunner(threads)) {
            for (int[] s : shapes) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
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
                NativeMemory.copyFromArray(a, 0, aAddr, a.length);
                NativeMemory.copyFromArray(b, 0, bAddr, b.length);
                PackedMatrix pb = PackedMatrix.pack(bAddr, n, k, true);
                Sgemm.multiply(aAddr, m, k, pb, null, cAddr, runner);
                if (m <= 128) {
                    float[] c = new float[m * n];
                    float[] ref = new float[m * n];
                    NativeMemory.copyToArray(cAddr, c, 0, c.length);
                    MatmulReference.matmul(a, b, true, ref, m, n, k);
                    double maxErr = 0;
                    for (int i = 0; i < c.length; i++) {
                        maxErr = Math.max(maxErr, Math.abs(c[i] - ref[i]));
                    }
                    System.out.printf("check %dx%dx%d max abs err %.2e%n", m, n, k, maxErr);
                }
                int iters = (int) Math.max(3, 2e10 / (2.0 * m * n * k));
                for (int w = 0; w < iters / 2 + 1; w++) {
                    Sgemm.multiply(aAddr, m, k, pb, null, cAddr, runner);
                }
                long t0 = System.nanoTime();
                for (int it = 0; it < iters; it++) {
                    Sgemm.multiply(aAddr, m, k, pb, null, cAddr, runner);
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                System.out.printf("sgemm m=%d n=%d k=%d threads=%d: %.1f GFLOP/s%n", m, n, k, threads,
                        2.0 * m * n * k * iters / sec / 1e9);
                org.apache.arrow.memory.util.MemoryUtil.freeMemory(aAddr);
                org.apache.arrow.memory.util.MemoryUtil.freeMemory(bAddr);
                org.apache.arrow.memory.util.MemoryUtil.freeMemory(cAddr);
            }
        }
    }
}
