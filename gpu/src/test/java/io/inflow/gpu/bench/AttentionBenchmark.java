package io.inflow.gpu.bench;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

import java.util.Arrays;
import java.util.Random;

/**
 * Masked multi-head attention alone on the fast CPU backend, in GFLOP/s (4 * len^2 * d per row: scores and weighted
 * values) next to the nominal FP32 peak, for the shapes the encoders run, and GELU elements/s: the Fashion-MNIST ViT (50 tokens, 4 heads
 * of 32) and MiniLM (12 heads of 32). Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec
 * -Dbench.main=io.inflow.gpu.bench.AttentionBenchmark -Dbench.args="threads=2 seconds=2"}.
 */
public final class AttentionBenchmark {

    private AttentionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int threads = 2;
        double seconds = 2;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "threads" -> threads = Integer.parseInt(kv[1]);
                case "seconds" -> seconds = Double.parseDouble(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a + " (threads=, seconds=)");
            }
        }
        double peak = CpuPeak.of(threads).gflops();
        System.out.printf("attention, fast CPU backend, %d thread(s); nominal FP32 peak %.0f GFLOP/s%n", threads, peak);
        int[][] shapes = {{32, 50, 4, 32}, {256, 50, 4, 32}, {32, 16, 12, 32}, {32, 128, 12, 32}, {8, 256, 12, 32}};
        try (Backend cpu = Backends.create(BackendKind.CPU, threads)) {
            for (int[] s : shapes) {
                run(cpu, s[0], s[1], s[2], s[3], seconds, peak);
            }
            gelu(cpu, 12800 * 256, seconds);
        }
    }

    /** GELU (erf form) in place over {@code n} floats: the activation inside the feed-forward GEMM epilogue. */
    private static void gelu(Backend cpu, int n, double seconds) throws Exception {
        float[] x = new float[n];
        Random r = new Random(2);
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian() * 3;
        }
        try (Tensor t = cpu.upload(x, n)) {
            double s = BenchTiming.secondsPerCall(() -> cpu.transformer().gelu(t, t), seconds);
            System.out.printf("  gelu over %d floats: %.3f ms, %.2f G elements/s%n", n, s * 1e3, n / s / 1e9);
        }
    }

    private static void run(Backend cpu, int b, int seq, int heads, int hd, double seconds, double peak)
            throws Exception {
        int d = heads * hd;
        float[] x = new float[b * seq * d];
        Random r = new Random(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        int[] len = new int[b];
        Arrays.fill(len, seq);
        try (Tensor q = cpu.upload(x, b, seq, d);
             Tensor k = cpu.upload(x, b, seq, d);
             Tensor v = cpu.upload(x, b, seq, d);
             Tensor lengths = cpu.upload(len, b);
             Tensor out = cpu.allocate(DType.FLOAT32, b, seq, d)) {
            double s = BenchTiming.secondsPerCall(() -> cpu.transformer().attention(q, k, v, lengths, heads, out), seconds);
            double gflop = 4.0 * b * seq * seq * d / 1e9;
            System.out.printf("  b=%-4d seq=%-4d heads=%-3d hd=%-3d %9.3f ms %8.1f GFLOP/s %5.1f%% of peak%n", b, seq,
                    heads, hd, s * 1e3, gflop / s, 100 * gflop / s / peak);
        }
    }
}
