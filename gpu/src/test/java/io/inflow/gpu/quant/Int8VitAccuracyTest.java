package io.inflow.gpu.quant;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.encoder.vit.VitConfig;
import io.inflow.gpu.encoder.vit.VitEncoder;
import io.inflow.gpu.encoder.vit.VitEncoderConfig;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.FashionMnist;
import java.nio.file.Files;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The integer-only ViT against the float ViT on the full Fashion-MNIST t10k split (10,000 images, Debian's
 * {@code dataset-fashion-mnist}, which CI must install): top-1 of both, measured in the same run, and how often they
 * agree. Calibration uses the first {@value #CALIBRATION_IMAGES} images of the <em>train</em> split, so no
 * evaluated image is seen by calibration; without the train files it falls back to the committed sample (t10k
 * 0..999) and evaluates t10k 1000..9999 only.
 */
class Int8VitAccuracyTest {
    static final int CALIBRATION_IMAGES = 256;
    static final int BATCH = 256;
    /**
     * The target: INT8 top-1 within half a point of float top-1. Measured with the defaults: float 0.8848,
     * INT8 0.8852, the same top-1 on 99.47% of the images (smoothing 0 / 0.5, 64 or 1,024 calibration images and
     * percentile 99.99 all gave 0.8843..0.8850).
     */
    static final double MAX_TOP1_DROP = 0.005;
    /**
     * Negative control: the integer logits are not the float ones in disguise. Float32 reorderings move these
     * logits (magnitude ~10) by ~1e-5; the integer path must differ from float by more than this somewhere
     * (measured: max 1.0, rms 0.084).
     */
    static final double MIN_MAX_LOGIT_DIFFERENCE = 1e-2;

    /**
     * Without the Debian dataset too: calibrated on sample images 0..63, the integer path on sample images 500..755
     * agrees with float on at least {@value #MIN_SAMPLE_AGREEMENT} of them (measured 256 / 256), and {@code encode}
     * returns exactly the dequantized integers (features and logits at 2^-12), with the integer top-1.
     */
    @Test
    void encodeReturnsTheDequantizedIntegersAndAgreesWithFloatOnTheSample() throws Exception {
        FashionMnist sample = FashionMnist.sample();
        VitConfig c = VitInt8Fixture.config();
        int n = 256;
        try (Backend backend = new FastCpuBackend(null, 2);
             VitEncoder floatVit = VitEncoder.create(VitEncoderConfig.builder().modelDir(VitInt8Fixture.modelDir())
                     .backend(BackendKind.CPU).threads(2).build())) {
            Int8Vit q = VitInt8Fixture.quantize(backend, VitInt8Fixture.pixels(sample, 0, 64), 64,
                    CalibrationOptions.defaults(), null);
            assertThat(q.calibration().get(0).name()).isEqualTo("input patches");
            try (Int8VitEncoder intVit = new Int8VitEncoder(backend, q);
                 Tensor x = backend.upload(VitInt8Fixture.pixels(sample, 500, n), n, c.channels(), c.imageSize(),
                         c.imageSize())) {
                VitOutput f = floatVit.encode(x);
                int[] top1 = intVit.predict(x);
                int[] logits = intVit.logits().toIntArray();
                VitOutput out = intVit.encode(x);
                int[] features = intVit.forwardInteger(x).toIntArray();
                assertThat(out.labels()).isEqualTo(c.labels());
                assertThat(out.dimension()).isEqualTo(c.hidden());
                for (int i = 0; i < logits.length; i++) {
                    assertThat(out.logits()[i]).isEqualTo(Math.scalb((float) logits[i], -Int8Vit.LOGIT_BITS));
                }
                for (int i = 0; i < features.length; i++) {
                    assertThat(out.embeddings()[i]).isEqualTo(Math.scalb((float) features[i], -IntegerOps.RESIDUAL_BITS));
                }
                int agree = 0;
                for (int i = 0; i < n; i++) {
                    assertThat(out.argmax(i)).isEqualTo(top1[i]);
                    agree += top1[i] == f.argmax(i) ? 1 : 0;
                }
                System.out.printf("sample 500..755: INT8 (calibrated on sample 0..63) agrees with float on %d / %d%n",
                        agree, n);
                assertThat(agree).isGreaterThanOrEqualTo(MIN_SAMPLE_AGREEMENT);
            }
        }
    }

    /** Of 256 sample images (measured 256). */
    static final int MIN_SAMPLE_AGREEMENT = 250;

    @Test
    void int8Top1StaysWithinHalfAPointOfFloat() throws Exception {
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        if (!FashionMnist.debianInstalled()) {
            assertThat(ci).as("CI must install dataset-fashion-mnist (" + FashionMnist.DEBIAN_DIR + ")").isFalse();
            Assumptions.abort("Debian's dataset-fashion-mnist is not installed (" + FashionMnist.DEBIAN_DIR + ")");
        }
        FashionMnist t10k = FashionMnist.debian("t10k");
        assertThat(t10k.size()).isEqualTo(10_000);
        boolean train = Files.isRegularFile(FashionMnist.DEBIAN_DIR.resolve("train-images-idx3-ubyte.gz"));
        FashionMnist calibSet = train ? FashionMnist.debian("train") : FashionMnist.sample();
        int evalFrom = train ? 0 : FashionMnist.sample().size();
        System.out.printf("calibration: the first %d images of %s; evaluation: t10k %d..%d%n", CALIBRATION_IMAGES,
                train ? "Fashion-MNIST train" : "the committed t10k sample", evalFrom, t10k.size() - 1);
        VitConfig c = VitInt8Fixture.config();
        int per = c.channels() * c.imageSize() * c.imageSize();
        try (Backend backend = new FastCpuBackend(null, 2);
             VitEncoder floatVit = VitEncoder.create(VitEncoderConfig.builder().modelDir(VitInt8Fixture.modelDir())
                     .backend(BackendKind.CPU).threads(2).build())) {
            long t0 = System.nanoTime();
            Int8Vit q = VitInt8Fixture.quantize(backend, VitInt8Fixture.pixels(calibSet, 0, CALIBRATION_IMAGES),
                    CALIBRATION_IMAGES, CalibrationOptions.defaults(), System.out::println);
            double calibSeconds = (System.nanoTime() - t0) / 1e9;
            q.calibration().forEach(System.out::println);
            System.out.printf("calibration %.1f s (%d images), %d integer parameter bytes%n", calibSeconds,
                    CALIBRATION_IMAGES, q.weightBytes());
            int n = t10k.size() - evalFrom;
            float[] pixels = VitInt8Fixture.pixels(t10k, evalFrom, n);
            int floatCorrect = 0;
            int intCorrect = 0;
            int agree = 0;
            double maxLogitDiff = 0;
            double sumSq = 0;
            long floatNanos = 0;
            long intNanos = 0;
            int labels = c.numLabels();
            try (Int8VitEncoder intVit = new Int8VitEncoder(backend, q)) {
                for (int start = 0; start < n; start += BATCH) {
                    int m = Math.min(BATCH, n - start);
                    float[] chunk = java.util.Arrays.copyOfRange(pixels, start * per, (start + m) * per);
                    try (Tensor x = backend.upload(chunk, m, c.channels(), c.imageSize(), c.imageSize())) {
                        long a = System.nanoTime();
                        VitOutput f = floatVit.encode(x);
                        long b = System.nanoTime();
                        int[] top1 = intVit.predict(x);
                        int[] logits = intVit.logits().toIntArray();
                        intNanos += System.nanoTime() - b;
                        floatNanos += b - a;
                        for (int i = 0; i < m; i++) {
                            int label = t10k.label(evalFrom + start + i);
                            int fp = f.argmax(i);
                            floatCorrect += fp == label ? 1 : 0;
                            intCorrect += top1[i] == label ? 1 : 0;
                            agree += fp == top1[i] ? 1 : 0;
                            for (int k = 0; k < labels; k++) {
                                double diff = Math.scalb((double) logits[i * labels + k], -Int8Vit.LOGIT_BITS)
                                        - f.logits()[i * labels + k];
                                maxLogitDiff = Math.max(maxLogitDiff, Math.abs(diff));
                                sumSq += diff * diff;
                            }
                        }
                    }
                }
            }
            double floatTop1 = (double) floatCorrect / n;
            double intTop1 = (double) intCorrect / n;
            System.out.printf("float top-1 %.4f (%.1f s), INT8 top-1 %.4f (%.1f s), agreement %.4f over %d images;"
                            + " logits: max |int8 - float| %.4f, rms %.4f%n", floatTop1, floatNanos / 1e9, intTop1,
                    intNanos / 1e9, (double) agree / n, n, maxLogitDiff, Math.sqrt(sumSq / ((double) n * labels)));
            assertThat(Math.abs(floatTop1 - intTop1)).as("|float top-1 - INT8 top-1|")
                    .isLessThanOrEqualTo(MAX_TOP1_DROP);
            assertThat(maxLogitDiff).as("largest logit difference (negative control)")
                    .isGreaterThan(MIN_MAX_LOGIT_DIFFERENCE);
        }
    }
}
