package io.inflow.gpu.bench;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.encoder.TextEncoder;
import io.inflow.gpu.encoder.TextEncoderConfig;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.OrtEncoder;
import io.inflow.gpu.testing.TokenBatch;
import io.inflow.gpu.testing.Vectors;
import java.util.Random;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * MiniLM (all-MiniLM-L6-v2, fp32) throughput: our encoder on the fast CPU backend against ONNX Runtime in
 * the same JVM, same thread count, same inputs (full-length rows of random vocabulary ids between [CLS] and
 * [SEP]), for each batch x sequence shape. Each shape is first verified (cosine of mean-pooled outputs to
 * ORT >= 0.9999 per row), then warmed up, then timed in {@value #ROUNDS} interleaved rounds per engine
 * (at least {@code minSeconds} in total each), reporting each engine's best round.
 * Prints sentences/s, tokens/s, the ratio ours/ORT and our GFLOP/s (dense FLOPs of the model) next to the
 * cores' nominal FP32 peak ({@link CpuPeak}).
 *
 * <p>Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec -Dbench.args="threads=2 batches=1,8,32,128 seqs=16,128,256"}
 */
public final class EncoderBenchmark {
    static final double MIN_COSINE = 0.9999;
    /** Timing rounds per engine and shape, interleaved; the best is reported (the machine is shared and noisy). */
    static final int ROUNDS = 3;

    private EncoderBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int threads = 2;
        int[] batches = {1, 8, 32, 128};
        int[] seqs = {16, 128, 256};
        double minSeconds = 1.5;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "threads" -> threads = Integer.parseInt(kv[1]);
                case "batches" -> batches = ints(kv[1]);
                case "seqs" -> seqs = ints(kv[1]);
                case "seconds" -> minSeconds = Double.parseDouble(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a
                        + " (threads=, batches=, seqs=, seconds=)");
            }
        }
        try (BufferAllocator allocator = new RootAllocator();
             TextEncoder ours = TextEncoder.create(TextEncoderConfig.builder().onnxResource("all-minilm-l6-v2.onnx")
                     .backend(BackendKind.CPU).threads(threads).maxSequenceLength(256).build());
             OrtEncoder ort = new OrtEncoder("all-minilm-l6-v2.onnx", threads)) {
            BertConfig c = ours.bertConfig();
            System.out.printf("MiniLM-L6 fp32, %d threads, ours=%s vs ONNX Runtime 1.29 CPU; %d cores visible, Java %s%n",
                    threads, ours.backendName(), Runtime.getRuntime().availableProcessors(), Runtime.version());
            CpuPeak peak = CpuPeak.of(threads);
            System.out.println(peak.describe());
            warmUp(ours, ort, allocator);
            System.out.printf("%6s %5s | %12s %12s | %12s %12s | %6s | %8s %7s%n", "batch", "seq", "ours sent/s",
                    "ours tok/s", "ORT sent/s", "ORT tok/s", "ratio", "GFLOP/s", "% peak");
            for (int seq : seqs) {
                for (int batch : batches) {
                    TokenBatch tb = randomBatch(batch, seq, new Random(seq * 1000L + batch));
                    try (ArrowBuf idBuf = allocator.buffer(4L * batch * seq); ArrowBuf lenBuf = allocator.buffer(4L * batch)) {
                        Tensor ids = Tensor.wrap(idBuf, DType.INT32, batch, seq);
                        Tensor len = Tensor.wrap(lenBuf, DType.INT32, batch);
                        ids.copyFrom(tb.ids());
                        len.copyFrom(tb.lengths());
                        verify(ours, ort, tb, ids, len);
                        double oursSec = Double.MAX_VALUE;
                        double ortSec = Double.MAX_VALUE;
                        for (int round = 0; round < ROUNDS; round++) {     // alternate, keep the best round of each
                            oursSec = Math.min(oursSec, BenchTiming.secondsPerCall(() -> ours.encode(ids, len), minSeconds / ROUNDS));
                            ortSec = Math.min(ortSec, BenchTiming.secondsPerCall(() -> ort.lastHiddenState(tb), minSeconds / ROUNDS));
                        }
                        double flops = flopsPerBatch(c, batch, seq);
                        double gflops = flops / oursSec / 1e9;
                        System.out.printf("%6d %5d | %12.1f %12.0f | %12.1f %12.0f | %6.2f | %8.1f %6.1f%%%n", batch,
                                seq, batch / oursSec, batch * seq / oursSec, batch / ortSec, batch * seq / ortSec,
                                ortSec / oursSec, gflops, 100 * gflops / peak.gflops());
                    }
                }
            }
        }
    }

    /** JIT warm-up before any timing: both engines on small and medium shapes for a few seconds. */
    private static void warmUp(TextEncoder ours, OrtEncoder ort, BufferAllocator allocator) throws Exception {
        long end = System.nanoTime() + 4_000_000_000L;
        Random r = new Random(7);
        while (System.nanoTime() < end) {
            for (int[] shape : new int[][] {{1, 16}, {4, 64}, {8, 128}, {2, 256}}) {
                TokenBatch tb = randomBatch(shape[0], shape[1], r);
                try (ArrowBuf idBuf = allocator.buffer(4L * tb.ids().length); ArrowBuf lenBuf = allocator.buffer(4L * tb.batch())) {
                    Tensor ids = Tensor.wrap(idBuf, DType.INT32, tb.batch(), tb.seq());
                    Tensor len = Tensor.wrap(lenBuf, DType.INT32, tb.batch());
                    ids.copyFrom(tb.ids());
                    len.copyFrom(tb.lengths());
                    ours.encode(ids, len);
                    ort.lastHiddenState(tb);
                }
            }
        }
    }

    /** Dense FLOPs of one forward pass: the six Linear layers per layer plus QK^T and PV. */
    static double flopsPerBatch(BertConfig c, int batch, int seq) {
        double t = (double) batch * seq;
        double linear = 2 * t * (4.0 * c.hidden() * c.hidden() + 2.0 * c.hidden() * c.intermediate());
        double attention = 2 * 2 * (double) batch * seq * seq * c.hidden();
        return c.layers() * (linear + attention);
    }

    private static void verify(TextEncoder ours, OrtEncoder ort, TokenBatch tb, Tensor ids, Tensor len) throws Exception {
        float[] a = ours.encode(ids, len);
        float[] b = Vectors.meanPool(ort.lastHiddenState(tb), tb.lengths(), tb.seq(), ours.dimension());
        for (int r = 0; r < tb.batch(); r++) {
            double cos = Vectors.cosine(a, r * ours.dimension(), b, r * ours.dimension(), ours.dimension());
            if (cos < MIN_COSINE) {
                throw new IllegalStateException("row " + r + " of batch " + tb.batch() + "x" + tb.seq()
                        + ": cosine to ORT " + cos + " < " + MIN_COSINE);
            }
        }
    }


    private static TokenBatch randomBatch(int batch, int seq, Random r) {
        long[][] rows = new long[batch][seq];
        for (long[] row : rows) {
            for (int s = 0; s < seq; s++) {
                row[s] = s == 0 ? 101 : s == seq - 1 ? 102 : 1996 + r.nextInt(28000);
            }
        }
        return TokenBatch.of(rows);
    }

    private static int[] ints(String csv) {
        return java.util.Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
