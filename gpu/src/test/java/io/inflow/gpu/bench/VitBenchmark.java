package io.inflow.gpu.bench;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.batch.ImageBatch;
import io.inflow.gpu.encoder.vit.VitConfig;
import io.inflow.gpu.encoder.vit.VitEncoder;
import io.inflow.gpu.encoder.vit.VitEncoderConfig;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.FashionMnist;
import io.inflow.gpu.testing.OrtVit;
import io.inflow.gpu.testing.Vectors;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * ViT (the Fashion-MNIST classifier under {@code models/vit-fashion-mnist}, fp32) throughput: our {@link VitEncoder}
 * on the fast CPU backend against ONNX Runtime running the same model's ONNX export in the same JVM, same thread
 * count, same input: the first {@code batch} images of the committed 1,000-image t10k sample, preprocessed by
 * {@link ImagePreprocessor} into one {@link ImageBatch} whose pixel buffer both engines read.
 * Each batch size is first verified (same argmax per image, CLS cosine to ORT's last_hidden_state[:, 0] >= 0.9999),
 * then warmed up, then timed in {@value #ROUNDS} interleaved rounds per engine (at least {@code seconds} in total
 * each), reporting each engine's best round. Prints images/s, the ratio ours/ORT and our GFLOP/s (dense FLOPs of the
 * forward pass, {@link #flopsPerBatch}) next to the cores' nominal FP32 peak ({@link CpuPeak}); and, on their own
 * lines, the preprocessing throughput: images/s of {@link ImagePreprocessor#appendTo} into an {@link ImageBatch}, then
 * of {@code ImageOps.preprocessImages} on each backend ({@link PreprocessBenchmark}: reference and fast CPU, CUDA where
 * a device exists).
 *
 * <p>Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec -Dbench.main=io.inflow.gpu.bench.VitBenchmark
 * -Dbench.args="threads=2 batches=1,8,32,128,256 seconds=3"}
 */
public final class VitBenchmark {
    static final String MODEL = "models/vit-fashion-mnist";
    static final double MIN_COSINE = 0.9999;
    /** Timing rounds per engine and batch size, interleaved; the best is reported (the machine is shared and noisy). */
    static final int ROUNDS = 3;

    private VitBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int threads = 2;
        int[] batches = {1, 8, 32, 128, 256};
        double minSeconds = 1.5;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "threads" -> threads = Integer.parseInt(kv[1]);
                case "batches" -> batches = ints(kv[1]);
                case "seconds" -> minSeconds = Double.parseDouble(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a
                        + " (threads=, batches=, seconds=)");
            }
        }
        FashionMnist data = FashionMnist.sample();
        int maxBatch = java.util.Arrays.stream(batches).max().orElse(1);
        if (maxBatch > data.size()) {
            throw new IllegalArgumentException("batch " + maxBatch + " > " + data.size() + " sample images");
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        ClassLoader cl = VitBenchmark.class.getClassLoader();
        ImagePreprocessor pre;
        byte[] onnx;
        try (InputStream in = cl.getResourceAsStream(MODEL + "/model.onnx");
             InputStream config = cl.getResourceAsStream(MODEL + "/config.json")) {
            onnx = in.readAllBytes();
            pre = new ImagePreprocessor(ImagePreprocessConfig.fromModelConfig(config));
        }
        try (BufferAllocator allocator = new RootAllocator();
             OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(threads);
            try (OrtSession session = env.createSession(onnx, opts);
                 VitEncoder ours = VitEncoder.create(VitEncoderConfig.builder().modelResource(MODEL)
                         .pooling(PoolingMode.CLS).backend(BackendKind.CPU).threads(threads).allocator(allocator)
                         .build());
                 ImageBatch images = new ImageBatch(allocator, 1, 28, 28, data.size())) {
                VitConfig c = ours.vitConfig();
                System.out.printf("ViT Fashion-MNIST fp32 (d=%d, %d layers, %d heads, mlp %d, %d tokens), %d threads,"
                                + " ours=%s vs ONNX Runtime CPU; %d cores visible, Java %s%n", c.hidden(), c.layers(),
                        c.heads(), c.intermediate(), c.tokens(), threads, ours.backendName(),
                        Runtime.getRuntime().availableProcessors(), Runtime.version());
                CpuPeak peak = CpuPeak.of(threads);
                System.out.println(peak.describe());

                double preSec = BenchTiming.secondsPerCall(() -> {
                    images.clear();
                    for (int i = 0; i < data.size(); i++) {
                        pre.appendTo(images, data.image(i));
                    }
                }, minSeconds);
                System.out.printf("preprocessing (ImagePreprocessor -> ImageBatch, 1 thread): %.0f images/s%n",
                        data.size() / preSec);
                PreprocessBenchmark.run(threads, minSeconds);
                // images now holds the whole sample, preprocessed; batch b reads its first b rows

                warmUp(ours, session, env, images);
                System.out.printf("%6s | %12s %12s | %6s | %8s %7s%n", "batch", "ours img/s", "ORT img/s", "ratio",
                        "GFLOP/s", "% peak");
                for (int batch : batches) {
                    Tensor pixels = Tensor.wrap(images.pixelValuesBuffer(), DType.FLOAT32, batch, 1, 28, 28);
                    FloatBuffer ortPixels = ortInput(images, batch);
                    verify(ours, session, env, pixels, ortPixels, batch, c.hidden());
                    double oursSec = Double.MAX_VALUE;
                    double ortSec = Double.MAX_VALUE;
                    for (int round = 0; round < ROUNDS; round++) {     // alternate, keep the best round of each
                        oursSec = Math.min(oursSec, BenchTiming.secondsPerCall(() -> ours.encode(pixels), minSeconds / ROUNDS));
                        ortSec = Math.min(ortSec, BenchTiming.secondsPerCall(() -> OrtVit.run(session, ortPixels, batch, 28).close(),
                                minSeconds / ROUNDS));
                    }
                    double gflops = flopsPerBatch(c, batch) / oursSec / 1e9;
                    System.out.printf("%6d | %12.1f %12.1f | %6.2f | %8.1f %6.1f%%%n", batch, batch / oursSec,
                            batch / ortSec, ortSec / oursSec, gflops, 100 * gflops / peak.gflops());
                }
            }
        }
    }

    private static FloatBuffer ortInput(ImageBatch images, int batch) {
        return images.pixelValuesBuffer().nioBuffer(0, batch * images.rowFloats() * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }


    /** JIT warm-up before any timing: both engines on a few batch sizes for a few seconds. */
    private static void warmUp(VitEncoder ours, OrtSession session, OrtEnvironment env, ImageBatch images)
            throws Exception {
        long end = System.nanoTime() + 4_000_000_000L;
        while (System.nanoTime() < end) {
            for (int b : new int[] {1, 4, 16, 64}) {
                ours.encode(Tensor.wrap(images.pixelValuesBuffer(), DType.FLOAT32, b, 1, 28, 28));
                OrtVit.run(session, ortInput(images, b), b, 28).close();
            }
        }
    }

    /**
     * Dense FLOPs of one forward pass over {@code batch} images: the patch embedding (a Linear from c*p*p to d per
     * patch), per layer the four attention projections and the two MLP Linears over all t = b*s tokens plus QK^T
     * and PV (2 x 2*b*s^2*d), and the classifier on the class tokens.
     */
    static double flopsPerBatch(VitConfig c, int batch) {
        double d = c.hidden();
        double s = c.tokens();
        double t = batch * s;
        double patchEmbed = 2.0 * batch * c.patches() * c.channels() * c.patchSize() * c.patchSize() * d;
        double linear = 2 * t * d * (4 * d + 2.0 * c.intermediate());
        double attention = 4 * batch * s * s * d;
        double classifier = 2.0 * batch * d * c.numLabels();
        return patchEmbed + c.layers() * (linear + attention) + classifier;
    }

    private static void verify(VitEncoder ours, OrtSession session, OrtEnvironment env, Tensor pixels,
                               FloatBuffer ortPixels, int batch, int d) throws Exception {
        VitOutput out = ours.encode(pixels);
        try (OrtSession.Result r = OrtVit.run(session, ortPixels, batch, 28)) {
            float[][] logits = (float[][]) r.get("logits").orElseThrow().getValue();
            float[][][] hidden = (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
            for (int i = 0; i < batch; i++) {
                int best = 0;
                for (int k = 1; k < logits[i].length; k++) {
                    best = logits[i][k] > logits[i][best] ? k : best;
                }
                if (out.argmax(i) != best) {
                    throw new IllegalStateException("image " + i + " of batch " + batch + ": argmax " + out.argmax(i)
                            + " vs ORT " + best);
                }
                double cos = Vectors.cosine(out.embeddings(), i * d, hidden[i][0], 0, d);
                if (cos < MIN_COSINE) {
                    throw new IllegalStateException("image " + i + " of batch " + batch + ": CLS cosine to ORT "
                            + cos + " < " + MIN_COSINE);
                }
            }
        }
    }


    private static int[] ints(String csv) {
        return java.util.Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
