package io.inflow.gpu.bench;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.backend.cuda.CudaAvailability;
import io.inflow.gpu.backend.cuda.CudaBackend;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.encoder.BertEncoder;
import io.inflow.gpu.encoder.BertWeights;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.safetensors.SafetensorsWeights;
import io.inflow.gpu.quant.BertQuantizer;
import io.inflow.gpu.quant.CalibrationOptions;
import io.inflow.gpu.quant.Int8Bert;
import io.inflow.gpu.quant.Int8BertEncoder;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.RandomBert;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * GPU benchmark (not a unit test): MiniLM-shaped integer-only INT8 encoder on the CUDA backend against the float
 * encoder on the same device (BF16 tensor-core GEMMs, the {@code inflow.cuda.gemm-precision} default) and against the
 * fast CPU INT8 path, same inputs. The model has MiniLM's shape with seeded random weights (the real weights stay
 * behind in the device kit), quantized on the CPU from 64 random calibration rows. Before timing, the device's INT8
 * forward pass is checked bit for bit against the CPU's on the first rows (the integer path is defined exactly),
 * else nothing is timed. Prints sequences/s of each, the INT8 / BF16 ratio (the goal: 1.7x) and dense
 * TOPS against the H100/H200 INT8 peak (1,979). Skips with the reason where no device exists.
 *
 * <p>Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec
 * -Dbench.main=io.inflow.gpu.bench.CudaQuantizedBenchmark -Dbench.args="batch=256 seq=128 seconds=5 threads=2"}
 */
public final class CudaQuantizedBenchmark {
    static final double H100_INT8_DENSE_TOPS = 1979.0;
    /** Rows checked bit for bit against the CPU before timing. */
    static final int CHECK_ROWS = 8;

    private CudaQuantizedBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int batch = 256;
        int seq = 128;
        double seconds = 5;
        int threads = Runtime.getRuntime().availableProcessors();
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "batch" -> batch = Integer.parseInt(kv[1]);
                case "seq" -> seq = Integer.parseInt(kv[1]);
                case "seconds" -> seconds = Double.parseDouble(kv[1]);
                case "threads" -> threads = Integer.parseInt(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a
                        + " (batch=, seq=, seconds=, threads=)");
            }
        }
        CudaAvailability.Result probe = CudaAvailability.probe();
        if (!probe.available()) {
            System.out.println("skipped: no CUDA device: " + probe.reason());
            return;
        }
        Path dir = Files.createTempDirectory("minilm-random");
        RandomBert.MINILM.write(dir, 42);
        System.out.println("weights: MiniLM-shaped, seeded random");
        try (SafetensorsWeights w = SafetensorsWeights.open(dir);
             Backend cpu = new FastCpuBackend(null, threads);
             CudaBackend gpu = CudaBackend.create(CudaBackendConfig.fromSystemProperties())) {
            BertConfig c = w.bertConfig();
            if (!gpu.supports(Family.QUANTIZED)) {
                System.out.println("skipped: " + gpu.name() + " has no QUANTIZED family");
                return;
            }
            int[] calIds = CudaEncoderBenchmark.randomIds(64, seq, c.vocabSize(), new Random(7));
            int[] calLen = new int[64];
            Arrays.fill(calLen, seq);
            long t0 = System.nanoTime();
            Int8Bert q = BertQuantizer.quantize(w, c, calIds, calLen, 64, seq, cpu, CalibrationOptions.defaults(), null);
            System.out.printf("calibrated on the CPU (%d threads) in %.1f s%n", threads, (System.nanoTime() - t0) / 1e9);
            int[] ids = CudaEncoderBenchmark.randomIds(batch, seq, c.vocabSize(), new Random(42));
            int[] lengths = new int[batch];
            Arrays.fill(lengths, seq);
            int check = Math.min(CHECK_ROWS, batch);
            try (BertWeights fw = BertWeights.load(w, c, gpu);
                 BertEncoder floatEnc = new BertEncoder(gpu, c, fw);
                 Int8BertEncoder intGpu = new Int8BertEncoder(gpu, q);
                 Int8BertEncoder intCpu = new Int8BertEncoder(cpu, q);
                 Tensor idG = gpu.upload(ids, batch, seq);
                 Tensor lenG = gpu.upload(lengths, batch);
                 Tensor idC = cpu.upload(Arrays.copyOf(ids, check * seq), check, seq);
                 Tensor lenC = cpu.upload(Arrays.copyOf(lengths, check), check)) {
                int[] want = intCpu.forwardInteger(idC, lenC).toIntArray();
                int[] got = Arrays.copyOf(gpu.downloadInts(intGpu.forwardInteger(idG, lenG)), want.length);
                if (!Arrays.equals(want, got)) {
                    int at = Arrays.mismatch(want, got);
                    throw new AssertionError("INT8 on the device differs from the CPU at element " + at + " (" + got[at]
                            + " vs " + want[at] + "): not timing a wrong result");
                }
                System.out.printf("INT8 forward: device equals the CPU bit for bit on %d rows x %d tokens%n", check, seq);
                int b = batch;
                double intSec = CudaEncoderBenchmark.time(() -> {
                    intGpu.forwardInteger(idG, lenG);
                    gpu.synchronize();
                }, seconds);
                double floatSec = CudaEncoderBenchmark.time(() -> {
                    floatEnc.forward(idG, lenG, null);
                    gpu.synchronize();
                }, seconds);
                double cpuSec = CudaEncoderBenchmark.time(() -> intCpu.forwardInteger(idC, lenC), Math.min(seconds, 10));
                double ops = CudaEncoderBenchmark.encoderFlops(c, batch, seq);
                double tops = ops / intSec / 1e12;
                System.out.printf("MiniLM-shaped %d x %d: INT8 %.0f seq/s (%.1f TOPS = %.2f%% of the INT8 dense peak"
                        + " %.0f), float/BF16 %.0f seq/s, INT8 / BF16 = %.2fx (goal 1.7x); CPU INT8 (%d rows) %.1f seq/s%n",
                        b, seq, b / intSec, tops, 100 * tops / H100_INT8_DENSE_TOPS, H100_INT8_DENSE_TOPS, b / floatSec,
                        floatSec / intSec, check, check / cpuSec);
            }
        }
    }
}
