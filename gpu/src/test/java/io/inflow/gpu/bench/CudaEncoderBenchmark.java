package io.inflow.gpu.bench;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaAvailability;
import io.inflow.gpu.backend.cuda.CudaBackend;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.encoder.TextEncoder;
import io.inflow.gpu.encoder.TextEncoderConfig;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.Vectors;
import java.util.Random;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * GPU benchmark (not a unit test): MiniLM-L6 through the CUDA backend at batch x sequence (default 256 x 128),
 * verified against the fast CPU encoder first (cosine >= 0.999 per row), then warmed up and timed. Prints
 * sequences/s, TFLOP/s and the share of the dense BF16 peak of an H100 / H200 SXM (989 TFLOP/s, the same tensor cores),
 * the ceiling that peak sets in sequences/s, the GEMM alone per encoder shape (TFLOP/s) on both paths (bf16
 * activations on the tensor-core {@code gemm_tc} kernel, and float32 activations rounded by the WMMA kernel), the
 * self-attention time (fused QKV GEMM + flash attention, and the QKV GEMM alone), and the ratio to the CPU twin
 * measured in the same run. The encoder's forward passes after the first two replay a CUDA graph. Skips with the
 * reason where no device exists.
 *
 * <p>FLOPs counted per batch: {@code 2 * matmulParams * tokens} (Q, K, V, output, and the two feed-forward
 * matrices of every layer) plus attention {@code 4 * b * s^2 * d} per layer (scores and weighted sum).
 *
 * <p>Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec -Dbench.main=io.inflow.gpu.bench.CudaEncoderBenchmark
 * -Dbench.args="batch=256 seq=128 seconds=5 cpuBatch=32 threads=2"} ({@code random=true}: MiniLM-shaped seeded random
 * weights, the default where the real ones are not on the classpath, as in the device kit)
 */
public final class CudaEncoderBenchmark {
    static final double H100_BF16_DENSE_TFLOPS = 989.0;
    static final double MIN_COSINE = 0.999;

    private CudaEncoderBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int batch = 256;
        int seq = 128;
        double seconds = 5;
        int cpuBatch = 32;
        int threads = 2;
        boolean random = CudaEncoderBenchmark.class.getClassLoader().getResource("all-minilm-l6-v2.onnx") == null;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "batch" -> batch = Integer.parseInt(kv[1]);
                case "seq" -> seq = Integer.parseInt(kv[1]);
                case "seconds" -> seconds = Double.parseDouble(kv[1]);
                case "cpuBatch" -> cpuBatch = Integer.parseInt(kv[1]);
                case "threads" -> threads = Integer.parseInt(kv[1]);
                case "random" -> random = Boolean.parseBoolean(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a
                        + " (batch=, seq=, seconds=, cpuBatch=, threads=, random=)");
            }
        }
        CudaAvailability.Result probe = CudaAvailability.probe();
        if (!probe.available()) {
            System.out.println("skipped: no CUDA device: " + probe.reason());
            return;
        }
        TextEncoderConfig.Builder model = TextEncoderConfig.builder();
        if (random) {   // the device kit: MiniLM's shape with seeded random weights (the real ones stay behind)
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("minilm-random");
            io.inflow.gpu.testing.RandomBert.MINILM.write(dir, 42);
            model.safetensors(dir);
            System.out.println("weights: MiniLM-shaped, seeded random (all-minilm-l6-v2.onnx is not on the classpath)");
        } else {
            model.onnxResource("all-minilm-l6-v2.onnx");
        }
        run(model, batch, seq, seconds, cpuBatch, threads);
    }

    static void run(TextEncoderConfig.Builder model, int batch, int seq, double seconds, int cpuBatch, int threads)
            throws Exception {
        try (BufferAllocator allocator = new RootAllocator();
             TextEncoder gpu = TextEncoder.create(model.backend(BackendKind.CUDA)
                     .cuda(CudaBackendConfig.fromSystemProperties()).build());
             TextEncoder cpu = TextEncoder.create(model.backend(BackendKind.CPU).threads(threads).build())) {
            BertConfig c = gpu.bertConfig();
            System.out.println("device: " + gpu.backendName() + "; cpu twin: " + cpu.backendName());
            int[] ids = randomIds(batch, seq, c.vocabSize(), new Random(42));
            int[] lengths = new int[batch];
            java.util.Arrays.fill(lengths, seq);

            // verify before timing: the first cpuBatch rows against the CPU encoder
            int check = Math.min(cpuBatch, batch);
            float[] want = encode(cpu, allocator, java.util.Arrays.copyOf(ids, check * seq), java.util.Arrays.copyOf(lengths, check), check, seq);
            float[] got = encode(gpu, allocator, ids, lengths, batch, seq);
            int d = gpu.dimension();
            for (int r = 0; r < check; r++) {
                double cos = Vectors.cosine(got, r * d, want, r * d, d);
                if (cos < MIN_COSINE) {
                    throw new AssertionError("row " + r + ": cosine " + cos + " < " + MIN_COSINE + ": not timing a wrong result");
                }
            }

            double gpuSeconds = time(() -> encode(gpu, allocator, ids, lengths, batch, seq), seconds);
            double cpuSeconds = time(() -> encode(cpu, allocator, java.util.Arrays.copyOf(ids, check * seq),
                    java.util.Arrays.copyOf(lengths, check), check, seq), Math.min(seconds, 10));
            double gpuRate = batch / gpuSeconds;
            double cpuRate = check / cpuSeconds;
            double flops = encoderFlops(c, batch, seq);
            double tflops = flops / gpuSeconds / 1e12;
            double ceiling = H100_BF16_DENSE_TFLOPS * 1e12 / (flops / batch);
            System.out.printf("MiniLM-L6 %d x %d: %.0f sequences/s, %.1f TFLOP/s = %.2f%% of the BF16 dense peak"
                    + " (%.0f TFLOP/s; ceiling %.0f sequences/s); CPU twin (%d x %d): %.1f sequences/s; GPU / CPU = "
                    + "%.1fx%n", batch, seq, gpuRate, tflops, 100 * tflops / H100_BF16_DENSE_TFLOPS,
                    H100_BF16_DENSE_TFLOPS, ceiling, check, seq, cpuRate, gpuRate / cpuRate);
        }
        gemmShapes(batch * seq, seconds);
        attention(batch, seq, seconds);
    }

    /** MiniLM's self-attention at batch x seq on bf16 activations: QKV GEMM + flash attention, and the GEMM alone. */
    static void attention(int batch, int seq, double seconds) {
        int d = 384;
        int heads = 12;
        int t = batch * seq;
        try (CudaBackend b = CudaBackend.create(CudaBackendConfig.builder().poolBytes(4L << 30).build());
             BufferAllocator allocator = new RootAllocator()) {
            io.inflow.gpu.backend.TransformerOps ops = b.transformer();
            Random rnd = new Random(2);
            Tensor[] w = new Tensor[3];
            Tensor[] bias = new Tensor[3];
            for (int i = 0; i < 3; i++) {
                w[i] = b.upload(randoms(rnd, d * d, 0.05f), d, d);
                bias[i] = b.upload(randoms(rnd, d, 0.05f), d);
            }
            ops.prepareSelfAttention(w[0], bias[0], w[1], bias[1], w[2], bias[2]);
            int[] len = new int[batch];
            java.util.Arrays.fill(len, seq);
            try (Tensor x = bf16(b, allocator, randoms(rnd, t * d, 1f), batch, seq, d);
                 Tensor lengths = b.upload(len, batch);
                 Tensor qkv = b.allocate(DType.BFLOAT16, t, 3 * d);
                 Tensor ctx = b.allocate(DType.BFLOAT16, batch, seq, d);
                 Tensor qkvOnly = b.allocate(DType.BFLOAT16, t, 3 * d)) {
                double both = time(() -> {
                    ops.selfAttention(x, w[0], bias[0], w[1], bias[1], w[2], bias[2], lengths, heads, qkv, ctx);
                    b.synchronize();
                }, Math.min(seconds, 2));
                Tensor fusedWeight = b.upload(randoms(rnd, 3 * d * d, 0.05f), 3 * d, d);
                Tensor fusedBias = b.upload(new float[3 * d], 3 * d);
                ops.prepareWeights(fusedWeight);
                double gemm = time(() -> {
                    ops.linear(x.reshape(t, d), fusedWeight, fusedBias, qkvOnly);
                    b.synchronize();
                }, Math.min(seconds, 2));
                double attentionFlops = 4.0 * batch * (double) seq * seq * d;
                System.out.printf("self-attention %d x %d (d %d, %d heads, bf16): %.3f ms = QKV GEMM %.3f ms + flash "
                        + "attention %.3f ms (%.1f TFLOP/s)%n", batch, seq, d, heads, both * 1e3, gemm * 1e3,
                        (both - gemm) * 1e3, attentionFlops / Math.max(both - gemm, 1e-9) / 1e12);
                fusedWeight.close();
                fusedBias.close();
            } finally {
                for (int i = 0; i < 3; i++) {
                    w[i].close();
                    bias[i].close();
                }
            }
        }
    }

    static float[] randoms(Random rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (rnd.nextFloat() - 0.5f) * 2 * scale;
        }
        return v;
    }

    /** A device bf16 tensor holding {@code values} rounded to nearest even (through a host bf16 buffer). */
    static Tensor bf16(CudaBackend b, BufferAllocator allocator, float[] values, int... shape) {
        try (ArrowBuf host = allocator.buffer(2L * values.length)) {
            for (int i = 0; i < values.length; i++) {
                host.setShort(2L * i, io.inflow.gpu.tensor.HalfFloats.floatToBf16(values[i]));
            }
            Tensor device = b.allocate(DType.BFLOAT16, shape);
            b.copy(Tensor.wrap(host, DType.BFLOAT16, shape), device);
            return device;
        }
    }

    /** GEMM alone on the encoder's shapes (tokens x out x in), through the backend's linear (bias epilogue). */
    static void gemmShapes(int tokens, double seconds) {
        int[][] shapes = {{tokens, 384, 384}, {tokens, 1536, 384}, {tokens, 384, 1536}};
        try (CudaBackend b = CudaBackend.create(CudaBackendConfig.builder().poolBytes(4L << 30).build())) {
            Random rnd = new Random(1);
            for (int[] s : shapes) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
                float[] x = new float[m * k];
                float[] w = new float[n * k];
                for (int i = 0; i < x.length; i++) {
                    x[i] = rnd.nextFloat() - 0.5f;
                }
                for (int i = 0; i < w.length; i++) {
                    w[i] = rnd.nextFloat() - 0.5f;
                }
                try (Tensor tx = b.upload(x, m, k); Tensor tw = b.upload(w, n, k); Tensor bias = b.upload(new float[n], n);
                     Tensor y = b.allocate(DType.FLOAT32, m, n)) {
                    b.transformer().linear(tx, tw, bias, y);
                    float[] out = b.download(y);
                    checkRow0("gemm", out, x, w, m, n, k);
                    double sec = time(() -> {
                        b.transformer().linear(tx, tw, bias, y);
                        b.synchronize();
                    }, Math.min(seconds, 2));
                    b.transformer().prepareWeights(tw);   // the bf16 path reads the resident copy
                    double secTc;
                    try (BufferAllocator allocator = new RootAllocator();
                         Tensor xb = bf16(b, allocator, x, m, k); Tensor yb = b.allocate(DType.BFLOAT16, m, n)) {
                        b.transformer().linear(xb, tw, bias, yb);
                        b.transformer().linear(xb, tw, bias, y);
                        float[] outTc = b.download(y);
                        checkRow0("gemm_tc", outTc, x, w, m, n, k);
                        secTc = time(() -> {
                            b.transformer().linear(xb, tw, bias, yb);
                            b.synchronize();
                        }, Math.min(seconds, 2));
                    }
                    double tfTc = 2.0 * m * n * k / secTc / 1e12;
                    double tfWmma = 2.0 * m * n * k / sec / 1e12;
                    System.out.printf("gemm %d x %d x %d, bias epilogue: gemm_tc (bf16 activations, 128 x 128 tiles, "
                            + "cp.async + ldmatrix + mma.sync) %.1f TFLOP/s = %.2f%% of peak; WMMA (fp32 activations "
                            + "rounded per call, 64 x 64) %.1f TFLOP/s = %.2f%%%n", m, n, k, tfTc,
                            100 * tfTc / H100_BF16_DENSE_TFLOPS, tfWmma, 100 * tfWmma / H100_BF16_DENSE_TFLOPS);
                }
            }
        }
    }

    /** Row 0 of {@code out} against a double-precision dot product (BF16 inputs: within 2^-7 of sum |a b|). */
    static void checkRow0(String what, float[] out, float[] x, float[] w, int m, int n, int k) {
        for (int j = 0; j < n; j++) {
            double ref = 0;
            double mag = 0;
            for (int p = 0; p < k; p++) {
                ref += (double) x[p] * w[j * k + p];
                mag += Math.abs((double) x[p] * w[j * k + p]);
            }
            if (Math.abs(out[j] - ref) > 0x1p-7 * 1.01 * mag + k * 0x1p-22 * mag) {
                throw new AssertionError(what + " " + m + "x" + n + "x" + k + " wrong at column " + j);
            }
        }
    }

    static double encoderFlops(BertConfig c, int batch, int seq) {
        double d = c.hidden();
        double matmulParams = c.layers() * (4 * d * d + 2 * d * c.intermediate());
        double tokens = (double) batch * seq;
        double attention = c.layers() * 4.0 * batch * (double) seq * seq * d;
        return 2 * matmulParams * tokens + attention;
    }

    static int[] randomIds(int batch, int seq, int vocab, Random rnd) {
        int[] ids = new int[batch * seq];
        for (int r = 0; r < batch; r++) {
            ids[r * seq] = 101;
            for (int s = 1; s < seq - 1; s++) {
                ids[r * seq + s] = 1000 + rnd.nextInt(vocab - 1000);
            }
            ids[r * seq + seq - 1] = 102;
        }
        return ids;
    }

    static float[] encode(TextEncoder enc, BufferAllocator allocator, int[] ids, int[] lengths, int batch, int seq) {
        try (ArrowBuf idBuf = allocator.buffer(4L * batch * seq); ArrowBuf lenBuf = allocator.buffer(4L * batch)) {
            Tensor idt = Tensor.wrap(idBuf, DType.INT32, batch, seq);
            Tensor lent = Tensor.wrap(lenBuf, DType.INT32, batch);
            idt.copyFrom(ids);
            lent.copyFrom(lengths);
            return enc.encode(idt, lent);
        }
    }

    /** Seconds per call: 2 warm-up calls, then as many calls as fit in {@code budget} seconds (at least 3). */
    static double time(Runnable call, double budget) {
        call.run();
        call.run();
        int n = 0;
        long start = System.nanoTime();
        do {
            call.run();
            n++;
        } while (n < 3 || (System.nanoTime() - start) / 1e9 < budget);
        return (System.nanoTime() - start) / 1e9 / n;
    }
}
