package io.inflow.gpu.model;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.inflow.gpu.batch.ImageBatch;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.image.Interpolation;
import io.inflow.gpu.model.safetensors.SafetensorsFile;
import io.inflow.gpu.testing.FashionMnist;
import io.inflow.gpu.testing.OrtVit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The trained ViT under {@code models/vit-fashion-mnist}: its files agree with its config, and its ONNX export, fed
 * through our {@link ImagePreprocessor} and {@link ImageBatch}, reproduces the training run's figures in ONNX
 * Runtime (the sample always; the full t10k split when Debian's {@code dataset-fashion-mnist} is installed, which
 * CI must have).
 */
class VitFashionMnistModelTest {

    static final String DIR = "models/vit-fashion-mnist/";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static JsonNode config;
    private static JsonNode training;
    private static OrtSession session;
    private BufferAllocator allocator;

    @BeforeAll
    static void load() throws Exception {
        config = JSON.readTree(resource("config.json"));
        training = JSON.readTree(resource("training.json"));
        session = OrtVit.open(DIR.substring(0, DIR.length() - 1), 2);
    }

    @AfterAll
    static void close() throws OrtException {
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
        allocator.close();
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = VitFashionMnistModelTest.class.getClassLoader().getResourceAsStream(DIR + name);
        if (in == null) {
            throw new IOException("resource not found: " + DIR + name);
        }
        return in;
    }

    private static Path resourcePath(String name) throws URISyntaxException {
        return Path.of(VitFashionMnistModelTest.class.getClassLoader().getResource(DIR + name).toURI());
    }

    @Test
    void safetensorsHoldEveryHuggingFaceVitTensorWithTheConfigShapes() throws Exception {
        int d = config.get("hidden_size").asInt();
        int m = config.get("intermediate_size").asInt();
        int p = config.get("patch_size").asInt();
        int c = config.get("num_channels").asInt();
        int tokens = 1 + (config.get("image_size").asInt() / p) * (config.get("image_size").asInt() / p);
        int labels = config.get("num_labels").asInt();
        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put("vit.embeddings.cls_token", new int[] {1, 1, d});
        expected.put("vit.embeddings.position_embeddings", new int[] {1, tokens, d});
        expected.put("vit.embeddings.patch_embeddings.projection.weight", new int[] {d, c, p, p});
        expected.put("vit.embeddings.patch_embeddings.projection.bias", new int[] {d});
        for (int l = 0; l < config.get("num_hidden_layers").asInt(); l++) {
            String pre = "vit.encoder.layer." + l + ".";
            for (String ln : new String[] {"layernorm_before", "layernorm_after"}) {
                expected.put(pre + ln + ".weight", new int[] {d});
                expected.put(pre + ln + ".bias", new int[] {d});
            }
            for (String qkv : new String[] {"query", "key", "value"}) {
                expected.put(pre + "attention.attention." + qkv + ".weight", new int[] {d, d});
                expected.put(pre + "attention.attention." + qkv + ".bias", new int[] {d});
            }
            expected.put(pre + "attention.output.dense.weight", new int[] {d, d});
            expected.put(pre + "attention.output.dense.bias", new int[] {d});
            expected.put(pre + "intermediate.dense.weight", new int[] {m, d});
            expected.put(pre + "intermediate.dense.bias", new int[] {m});
            expected.put(pre + "output.dense.weight", new int[] {d, m});
            expected.put(pre + "output.dense.bias", new int[] {d});
        }
        expected.put("vit.layernorm.weight", new int[] {d});
        expected.put("vit.layernorm.bias", new int[] {d});
        expected.put("classifier.weight", new int[] {labels, d});
        expected.put("classifier.bias", new int[] {labels});
        try (SafetensorsFile f = SafetensorsFile.open(resourcePath("model.safetensors"))) {
            assertThat(f.entries().keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
            long params = 0;
            for (Map.Entry<String, int[]> e : expected.entrySet()) {
                SafetensorsFile.Entry entry = f.entries().get(e.getKey());
                assertThat(entry.shape()).as(e.getKey()).containsExactly(e.getValue());
                assertThat(entry.dtype()).as(e.getKey()).isEqualTo("F32");
                long n = 1;
                for (int s : e.getValue()) {
                    n *= s;
                }
                params += n;
            }
            assertThat(params).isEqualTo(training.get("params").asLong());
        }
        assertThat(config.get("hidden_act").asText()).isEqualTo("gelu");
        assertThat(config.get("id2label").get("9").asText()).isEqualTo("Ankle boot");
    }

    @Test
    void preprocessingConfigIsReadFromTheModel() throws Exception {
        ImagePreprocessConfig pre = ImagePreprocessConfig.fromModelConfig(resource("config.json"));
        assertThat(pre.height()).isEqualTo(28);
        assertThat(pre.width()).isEqualTo(28);
        assertThat(pre.channels()).isEqualTo(1);
        assertThat(pre.interpolation()).isEqualTo(Interpolation.BILINEAR);
        assertThat(pre.mean()).containsExactly(0.2860f);
        assertThat(pre.std()).containsExactly(0.3530f);
    }

    /** Runs ORT over {@code data} in batches of 250 built by our preprocessor; returns {correct, agree-with}. */
    private int[] classify(FashionMnist data, int[] referencePredictions, float[] firstLogitsOut) throws Exception {
        ImagePreprocessor pre = new ImagePreprocessor(ImagePreprocessConfig.fromModelConfig(resource("config.json")));
        SafetensorsFile weights = SafetensorsFile.open(resourcePath("model.safetensors"));
        float[] wc = weights.read("classifier.weight").orElseThrow().data();
        float[] bc = weights.read("classifier.bias").orElseThrow().data();
        weights.close();
        int d = config.get("hidden_size").asInt();
        int correct = 0;
        int agree = 0;
        int batchSize = 250;
        try (ImageBatch batch = new ImageBatch(allocator, 1, 28, 28, batchSize)) {
            for (int start = 0; start < data.size(); start += batchSize) {
                batch.clear();
                int n = Math.min(batchSize, data.size() - start);
                for (int i = 0; i < n; i++) {
                    pre.appendTo(batch, data.image(start + i));
                }
                try (OrtSession.Result r = OrtVit.run(session, OrtVit.pixels(batch, n), n, 28)) {
                    float[][] logits = (float[][]) r.get("logits").orElseThrow().getValue();
                    float[][][] hidden = (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
                    assertThat(hidden[0].length).isEqualTo(50);
                    assertThat(hidden[0][0]).hasSize(d);
                    for (int i = 0; i < n; i++) {
                        int best = argmax(logits[i]);
                        correct += best == data.label(start + i) ? 1 : 0;
                        agree += referencePredictions != null && best == referencePredictions[start + i] ? 1 : 0;
                        if (start == 0 && i < 3) {
                            // logits = classifier(CLS of last_hidden_state): ONNX and safetensors hold the same weights
                            for (int k = 0; k < 10; k++) {
                                double z = bc[k];
                                for (int j = 0; j < d; j++) {
                                    z += (double) wc[k * d + j] * hidden[i][0][j];
                                }
                                assertThat(logits[i][k]).as("image %d logit %d", i, k).isCloseTo((float) z, within(1e-4f));
                            }
                        }
                    }
                    if (start == 0 && firstLogitsOut != null) {
                        System.arraycopy(logits[0], 0, firstLogitsOut, 0, 10);
                    }
                }
            }
        }
        return new int[] {correct, agree};
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void onnxOnTheCommittedSampleReproducesTheTrainingRun() throws Exception {
        FashionMnist sample = FashionMnist.sample();
        assertThat(sample.size()).isEqualTo(1000);
        float[] first = new float[10];
        int[] r = classify(sample, FashionMnist.samplePredictions(), first);
        int trainedCorrect = training.get("t10k_first_1000_correct").asInt();
        // ORT and PyTorch sum in different orders: allow a borderline image or two to flip
        assertThat(r[1]).as("predictions equal to PyTorch's").isGreaterThanOrEqualTo(998);
        assertThat(r[0]).as("correct of 1000").isBetween(trainedCorrect - 2, trainedCorrect + 2);
        JsonNode ref = training.get("reference_first_image").get("logits");
        for (int k = 0; k < 10; k++) {
            assertThat(first[k]).as("logit %d of image 0", k).isCloseTo((float) ref.get(k).asDouble(), within(2e-3f));
        }
    }

    @Test
    void fullTestSetTop1MatchesTheTrainingRun() throws Exception {
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        if (!FashionMnist.debianInstalled()) {
            assertThat(ci).as("CI must install dataset-fashion-mnist (" + FashionMnist.DEBIAN_DIR + ")").isFalse();
            Assumptions.abort("Debian's dataset-fashion-mnist is not installed (" + FashionMnist.DEBIAN_DIR + ")");
        }
        FashionMnist t10k = FashionMnist.debian("t10k");
        assertThat(t10k.size()).isEqualTo(10_000);
        int[] r = classify(t10k, null, null);
        double top1 = r[0] / 10_000.0;
        System.out.printf("ViT Fashion-MNIST t10k top-1 through ImagePreprocessor + ORT: %.4f (training run %.4f)%n",
                top1, training.get("t10k_top1").asDouble());
        assertThat(r[0]).isBetween(training.get("t10k_correct").asInt() - 5, training.get("t10k_correct").asInt() + 5);
    }
}
