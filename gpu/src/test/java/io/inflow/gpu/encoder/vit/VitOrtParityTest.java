package io.inflow.gpu.encoder.vit;

import ai.onnxruntime.OrtSession;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.batch.ImageBatch;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.FashionMnist;
import io.inflow.gpu.testing.OrtVit;
import io.inflow.gpu.testing.Vectors;
import java.io.InputStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our {@link VitEncoder} (fast CPU backend) against ONNX Runtime running the same trained ViT's ONNX export, both
 * fed by {@link ImagePreprocessor} into one {@link ImageBatch}: per-image cosine of the class-token embedding, logits
 * within {@link #LOGITS_ABS_TOL}, and the same t10k top-1.
 */
class VitOrtParityTest {
    static final String MODEL = "models/vit-fashion-mnist";
    /** Per image, our CLS-pooled final-LayerNorm output vs ORT's last_hidden_state[:, 0, :]. */
    static final double MIN_COSINE = 0.9999;
    /** Float32 logits of magnitude ~10 after 4 blocks, summed in another order than ORT's MLAS: ~1e-5 seen. */
    static final double LOGITS_ABS_TOL = 1e-3;
    /** Top-1 correct on the 1,000-image t10k sample (ORT and the training run agree on it). */
    static final int SAMPLE_CORRECT = 886;
    /** Top-1 correct on the full t10k split (0.8848). */
    static final int T10K_CORRECT = 8848;

    private static OrtSession session;
    private static ImagePreprocessor pre;
    private BufferAllocator allocator;

    @BeforeAll
    static void load() throws Exception {
        session = OrtVit.open(MODEL, 2);
        try (InputStream config = VitOrtParityTest.class.getClassLoader()
                .getResourceAsStream(MODEL + "/config.json")) {
            pre = new ImagePreprocessor(ImagePreprocessConfig.fromModelConfig(config));
        }
    }

    @AfterAll
    static void close() throws Exception {
        if (session != null) {
            session.close();
        }
    }

    @BeforeEach
    void setUp() {
        allocator = new RootAllocator();
    }

    @AfterEach
    void tearDown() {
        allocator.close();   // fails on any leaked Arrow buffer, ours or the encoder's
    }

    private VitEncoder encoder() throws Exception {
        return VitEncoder.create(VitEncoderConfig.builder().modelResource(MODEL).pooling(PoolingMode.CLS)
                .backend(BackendKind.CPU).threads(2).allocator(allocator).build());
    }

    /** {correct (ours), correct (ORT), min cosine x 1e9, max logit diff x 1e9}. */
    private long[] compare(VitEncoder vit, FashionMnist data, boolean withOrt) throws Exception {
        long correct = 0;
        long ortCorrect = 0;
        double minCos = 1;
        double maxDiff = 0;
        int batchSize = 250;
        try (ImageBatch batch = new ImageBatch(allocator, 1, 28, 28, batchSize)) {
            for (int start = 0; start < data.size(); start += batchSize) {
                batch.clear();
                int n = Math.min(batchSize, data.size() - start);
                for (int i = 0; i < n; i++) {
                    pre.appendTo(batch, data.image(start + i));
                }
                VitOutput ours = vit.encode(Tensor.wrap(batch.pixelValuesBuffer(), DType.FLOAT32, n, 1, 28, 28));
                assertThat(ours.rows()).isEqualTo(n);
                for (int i = 0; i < n; i++) {
                    correct += ours.argmax(i) == data.label(start + i) ? 1 : 0;
                }
                if (!withOrt) {
                    continue;
                }
                try (OrtSession.Result r = OrtVit.run(session, OrtVit.pixels(batch, n), n, 28)) {
                    float[][] logits = (float[][]) r.get("logits").orElseThrow().getValue();
                    float[][][] hidden = (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
                    for (int i = 0; i < n; i++) {
                        double cos = Vectors.cosine(ours.embeddings(), i * 128, hidden[i][0], 0, 128);
                        minCos = Math.min(minCos, cos);
                        for (int k = 0; k < 10; k++) {
                            maxDiff = Math.max(maxDiff, Math.abs(ours.logits()[i * 10 + k] - logits[i][k]));
                        }
                        int best = 0;
                        for (int k = 1; k < 10; k++) {
                            best = logits[i][k] > logits[i][best] ? k : best;
                        }
                        ortCorrect += best == data.label(start + i) ? 1 : 0;
                    }
                }
            }
        }
        return new long[] {correct, ortCorrect, Math.round(minCos * 1e9), Math.round(maxDiff * 1e9)};
    }

    @Test
    void sampleMatchesOnnxRuntime() throws Exception {
        try (VitEncoder vit = encoder()) {
            assertThat(vit.dimension()).isEqualTo(128);
            assertThat(vit.inputShape()).containsExactly(1, 28, 28);
            assertThat(vit.labels()).hasSize(10).startsWith("T-shirt/top").endsWith("Ankle boot");
            assertThat(vit.modelName()).isEqualTo("vit-fashion-mnist");
            FashionMnist sample = FashionMnist.sample();
            long[] r = compare(vit, sample, true);
            double minCos = r[2] / 1e9;
            double maxDiff = r[3] / 1e9;
            System.out.printf("ViT vs ORT on the t10k sample: min CLS cosine %.9f, max |logit diff| %.3g,"
                    + " top-1 ours %d / ORT %d of %d%n", minCos, maxDiff, r[0], r[1], sample.size());
            assertThat(minCos).as("min per-image cosine").isGreaterThanOrEqualTo(MIN_COSINE);
            assertThat(maxDiff).as("max |logit diff|").isLessThanOrEqualTo(LOGITS_ABS_TOL);
            assertThat(r[1]).as("ORT correct").isEqualTo(SAMPLE_CORRECT);
            assertThat(r[0]).as("our correct").isEqualTo(SAMPLE_CORRECT);
        }
    }

    @Test
    void fullTestSplitTop1MatchesOnnxRuntime() throws Exception {
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        if (!FashionMnist.debianInstalled()) {
            assertThat(ci).as("CI must install dataset-fashion-mnist (" + FashionMnist.DEBIAN_DIR + ")").isFalse();
            Assumptions.abort("Debian's dataset-fashion-mnist is not installed (" + FashionMnist.DEBIAN_DIR + ")");
        }
        FashionMnist t10k = FashionMnist.debian("t10k");
        try (VitEncoder vit = encoder()) {
            long[] r = compare(vit, t10k, false);
            System.out.printf("ViT t10k top-1 through VitEncoder: %.4f%n", r[0] / 10_000.0);
            assertThat(r[0]).isEqualTo(T10K_CORRECT);
        }
    }
}
