package io.inflow.gpu.bench;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.encoder.BertEncoder;
import io.inflow.gpu.encoder.BertWeights;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.onnx.OnnxBertWeights;
import io.inflow.gpu.model.onnx.OnnxModel;
import io.inflow.gpu.quant.BertQuantizer;
import io.inflow.gpu.quant.CalibrationOptions;
import io.inflow.gpu.quant.CalibrationTexts;
import io.inflow.gpu.quant.Int8Bert;
import io.inflow.gpu.quant.Int8BertEncoder;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.OrtEncoder;
import io.inflow.gpu.testing.TokenBatch;
import io.inflow.gpu.testing.Vectors;
import java.util.List;
import java.util.Random;

/**
 * MiniLM-L6 throughput on the CPU: the integer-only INT8 path against our float32 path and against ONNX Runtime
 * 1.29 running the fp32 ONNX and the dynamic-INT8 ONNX ({@code all-minilm-l6-v2-q}, MLAS int8 kernels with VNNI
 * where the CPU has it), same JVM, same threads, same inputs (full-length rows of random vocabulary ids). Each shape
 * is verified first (pooled cosine of INT8 to float, and of ORT int8 to ORT fp32, printed), then timed in
 * interleaved rounds, best round per engine. Also prints each engine's dense GOP/s against the FP32 peak.
 *
 * <p>Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec
 * -Dbench.main=io.inflow.gpu.bench.QuantizedEncoderBenchmark -Dbench.args="threads=2 shapes=1x128,8x128,32x128"}
 */
public final class QuantizedEncoderBenchmark {
    static final int ROUNDS = 3;

    private QuantizedEncoderBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int threads = 2;
        String shapes = "1x128,8x128,32x128";
        double minSeconds = 1.5;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "threads" -> threads = Integer.parseInt(kv[1]);
                case "shapes" -> shapes = kv[1];
                case "seconds" -> minSeconds = Double.parseDouble(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a + " (threads=, shapes=, seconds=)");
            }
        }
        System.out.println("loading MiniLM ...");
        OnnxBertWeights w = new OnnxBertWeights(OnnxModel.fromClasspath("all-minilm-l6-v2.onnx"), "all-minilm-l6-v2");
        BertConfig c = w.inferConfig();
        try (Backend backend = new FastCpuBackend(null, threads);
             ModelTokenizer tok = ModelTokenizer.fromResource("all-minilm-l6-v2-tokenizer.json", 128);
             BertWeights fw = BertWeights.load(w, c, backend);
             BertEncoder floatEnc = new BertEncoder(backend, c, fw);
             OrtEncoder ort = new OrtEncoder("all-minilm-l6-v2.onnx", threads);
             OrtEncoder ortQ = new OrtEncoder("all-minilm-l6-v2-q.onnx", threads)) {
            System.out.println("engines ready; calibrating ...");
            List<String> texts = CalibrationTexts.bundled().subList(0, 64);
            TokenBatch cal = tok.batch(texts);
            long t0 = System.nanoTime();
            Int8Bert q = BertQuantizer.quantize(w, c, cal.ids(), cal.lengths(), cal.batch(), cal.seq(), backend,
                    CalibrationOptions.defaults(), null);
            System.out.printf("MiniLM-L6, %d threads; calibrated INT8 on 64 bundled texts in %.1f s; %d cores visible,"
                    + " Java %s%n", threads, (System.nanoTime() - t0) / 1e9, Runtime.getRuntime().availableProcessors(),
                    Runtime.version());
            CpuPeak peak = CpuPeak.of(threads);
            System.out.println(peak.describe());
            try (Int8BertEncoder intEnc = new Int8BertEncoder(backend, q)) {
                System.out.printf("%5s %4s | %10s %10s %10s %10s | %8s %8s | %9s %9s | %9s %9s%n", "batch", "seq",
                        "f32 sent/s", "int8 s/s", "ORT f32", "ORT int8", "int8/f32", "int8/ORTq", "cos int8",
                        "cos ORTq", "int8 GOP/s", "% f32 pk");
                for (String shape : shapes.split(",")) {
                    int batch = Integer.parseInt(shape.split("x")[0]);
                    int seq = Integer.parseInt(shape.split("x")[1]);
                    TokenBatch tb = randomBatch(batch, seq, new Random(seq * 1000L + batch));
                    try (Tensor ids = backend.upload(tb.ids(), batch, seq); Tensor len = backend.upload(tb.lengths(), batch)) {
                        int d = c.hidden();
                        float[] f = Vectors.meanPool(floatEnc.forward(ids, len, null).toFloatArray(), tb.lengths(), seq, d);
                        float[] i8 = Vectors.meanPool(intEnc.forward(ids, len).toFloatArray(), tb.lengths(), seq, d);
                        float[] of = Vectors.meanPool(ort.lastHiddenState(tb), tb.lengths(), seq, d);
                        float[] oq = Vectors.meanPool(ortQ.lastHiddenState(tb), tb.lengths(), seq, d);
                        double cosInt8 = meanCosine(f, i8, batch, d);
                        double cosOrtQ = meanCosine(of, oq, batch, d);
                        double[] sec = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
                        for (int round = 0; round < ROUNDS + 1; round++) {      // round 0 warms up
                            double s = minSeconds / ROUNDS;
                            double a = BenchTiming.secondsPerCall(() -> floatEnc.forward(ids, len, null), s);
                            double b = BenchTiming.secondsPerCall(() -> intEnc.forward(ids, len), s);
                            double e = BenchTiming.secondsPerCall(() -> ort.lastHiddenState(tb), s);
                            double g = BenchTiming.secondsPerCall(() -> ortQ.lastHiddenState(tb), s);
                            if (round > 0) {
                                sec[0] = Math.min(sec[0], a);
                                sec[1] = Math.min(sec[1], b);
                                sec[2] = Math.min(sec[2], e);
                                sec[3] = Math.min(sec[3], g);
                            }
                        }
                        double gops = EncoderBenchmark.flopsPerBatch(c, batch, seq) / sec[1] / 1e9;
                        System.out.printf("%5d %4d | %10.1f %10.1f %10.1f %10.1f | %8.2f %8.2f | %9.5f %9.5f | %9.1f %8.1f%%%n",
                                batch, seq, batch / sec[0], batch / sec[1], batch / sec[2], batch / sec[3],
                                sec[0] / sec[1], sec[3] / sec[1], cosInt8, cosOrtQ, gops, 100 * gops / peak.gflops());
                    }
                }
            }
        }
    }

    static double meanCosine(float[] a, float[] b, int rows, int d) {
        double s = 0;
        for (int r = 0; r < rows; r++) {
            s += Vectors.cosine(a, r * d, b, r * d, d);
        }
        return s / rows;
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
}
