package io.inflow.gpu.encoder.vit;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.backend.cpu.ReferenceCpuBackend;
import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.batch.ImageBatch;
import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.image.Interpolation;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.safetensors.SafetensorsFile;
import io.inflow.gpu.model.safetensors.SafetensorsWeights;
import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.FashionMnist;
import io.inflow.gpu.testing.Vectors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The ViT encoder on the trained Fashion-MNIST model: reference vs fast CPU backend, the CLIP-vision layout (the
 * trained tensors renamed), pooling / normalisation, and load-time failures that name the tensor or config key.
 */
class VitEncoderTest {
    /** Same per-element limits as the text encoder's reference-vs-fast check (TextEncoderTest). */
    static final double ENCODER_ABS_TOL = 2e-4;
    static final double ENCODER_REL_TOL = 2e-3;
    /** Identical tensors through identical kernels: only the loading path differs. */
    static final double SAME_MODEL_ABS_TOL = 0;

    private BufferAllocator allocator;
    @TempDir
    Path tmp;

    @BeforeEach
    void setUp() {
        allocator = new RootAllocator();
    }

    @AfterEach
    void tearDown() {
        allocator.close();
    }

    static Path modelDir() throws Exception {
        return Path.of(VitEncoderTest.class.getClassLoader().getResource(VitOrtParityTest.MODEL + "/config.json").toURI())
                .getParent();
    }

    private VitEncoderConfig.Builder config(Path dir) {
        return VitEncoderConfig.builder().modelDir(dir).backend(BackendKind.CPU).threads(2).allocator(allocator);
    }

    /** The first {@code n} sample images, preprocessed, in a batch the caller closes. */
    private ImageBatch images(int n) throws Exception {
        ImagePreprocessor pre = new ImagePreprocessor(
                ImagePreprocessConfig.fromModelConfig(Files.newInputStream(modelDir().resolve("config.json"))));
        FashionMnist sample = FashionMnist.sample();
        ImageBatch batch = new ImageBatch(allocator, 1, 28, 28, n);
        for (int i = 0; i < n; i++) {
            pre.appendTo(batch, sample.image(i));
        }
        return batch;
    }

    private static Tensor pixels(ImageBatch batch) {
        return Tensor.wrap(batch.pixelValuesBuffer(), DType.FLOAT32, batch.rowCount(), 1, 28, 28);
    }

    @Test
    void referenceAndFastBackendsAgree() throws Exception {
        for (int n : new int[] {1, 3, 17}) {
            try (ImageBatch batch = images(n);
                 VitEncoder ref = VitEncoder.create(config(modelDir()).build(), new ReferenceCpuBackend(allocator));
                 VitEncoder fast = VitEncoder.create(config(modelDir()).build(), new FastCpuBackend(allocator, 2))) {
                VitOutput a = ref.encode(pixels(batch));
                VitOutput b = fast.encode(pixels(batch));
                assertThat(Vectors.firstMismatch(b.embeddings(), a.embeddings(), ENCODER_ABS_TOL, ENCODER_REL_TOL))
                        .as("embeddings, batch %d", n).isEqualTo(-1);
                assertThat(Vectors.firstMismatch(b.logits(), a.logits(), ENCODER_ABS_TOL, ENCODER_REL_TOL))
                        .as("logits, batch %d", n).isEqualTo(-1);
            }
        }
    }

    /**
     * {@code encode(DecodedImageBatch)} (preprocessing on the backend) against the existing path (ImagePreprocessor
     * into an ImageBatch, then {@code encode(Tensor)}) on the 1,000-image sample: the images are already 28 x 28, so
     * the fast CPU backend only converts and normalises them, exactly as ImagePreprocessor does; the embeddings and
     * logits are identical and the top-1 is the model's 886 / 1000.
     */
    @Test
    void decodedImageBatchMatchesPreprocessedPixelsOnTheSample() throws Exception {
        FashionMnist sample = FashionMnist.sample();
        int batchSize = 250;
        try (VitEncoder vit = VitEncoder.create(config(modelDir()).build());
             DecodedImageBatch decoded = new DecodedImageBatch(allocator, batchSize);
             ImageBatch preprocessed = new ImageBatch(allocator, 1, 28, 28, batchSize)) {
            ImagePreprocessConfig pre = vit.preprocessConfig();
            assertThat(new int[] {pre.channels(), pre.height(), pre.width()}).containsExactly(vit.inputShape());
            assertThat(pre.interpolation()).isEqualTo(Interpolation.BILINEAR);
            assertThat(pre.mean()).containsExactly(0.286f);
            assertThat(pre.std()).containsExactly(0.353f);
            ImagePreprocessor reference = new ImagePreprocessor(pre);
            int correct = 0;
            for (int start = 0; start < sample.size(); start += batchSize) {
                decoded.clear();
                preprocessed.clear();
                for (int i = start; i < start + batchSize; i++) {
                    decoded.append(sample.image(i));
                    reference.appendTo(preprocessed, sample.image(i));
                }
                VitOutput ours = vit.encode(decoded);
                VitOutput existing = vit.encode(pixels(preprocessed));
                assertThat(ours.embeddings()).as("embeddings, images %d..", start).containsExactly(existing.embeddings());
                assertThat(ours.logits()).as("logits, images %d..", start).containsExactly(existing.logits());
                for (int i = 0; i < batchSize; i++) {
                    correct += ours.argmax(i) == sample.label(start + i) ? 1 : 0;
                }
            }
            assertThat(correct).as("top-1 correct on the sample").isEqualTo(VitOrtParityTest.SAMPLE_CORRECT);
        }
    }

    @Test
    void emptyDecodedBatchIsRejected() throws Exception {
        try (VitEncoder vit = VitEncoder.create(config(modelDir()).build());
             DecodedImageBatch empty = new DecodedImageBatch(allocator, 4)) {
            assertThatThrownBy(() -> vit.encode(empty)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("empty image batch");
        }
    }

    @Test
    void decodedBatchOfAnySizeIsResizedToTheModelInput() throws Exception {
        try (VitEncoder vit = VitEncoder.create(config(modelDir()).build());
             DecodedImageBatch batch = new DecodedImageBatch(allocator, 3);
             ImageBatch expected = new ImageBatch(allocator, 1, 28, 28, 3)) {
            FashionMnist sample = FashionMnist.sample();
            byte[] rgb = new byte[56 * 56 * 3];             // image 0 upscaled 2x by pixel repetition, as RGB
            for (int y = 0; y < 56; y++) {
                for (int x = 0; x < 56; x++) {
                    byte v = sample.image(0).pixels()[(y / 2) * 28 + x / 2];
                    rgb[(y * 56 + x) * 3] = v;
                    rgb[(y * 56 + x) * 3 + 1] = v;
                    rgb[(y * 56 + x) * 3 + 2] = v;
                }
            }
            List<DecodedImage> images = List.of(
                    new DecodedImage(56, 56, 3, rgb, null), sample.image(1), sample.image(2));
            ImagePreprocessor reference = new ImagePreprocessor(vit.preprocessConfig());
            for (DecodedImage img : images) {
                batch.append(img);
                reference.appendTo(expected, img);
            }
            VitOutput ours = vit.encode(batch);
            VitOutput ref = vit.encode(pixels(expected));
            // the fast CPU backend resamples in float32 (pixels within FastCpuImageContractTest's 3.5e-4 of an 8-bit
            // step); the two 28 x 28 images are copied, so only image 0 may differ, by rounding
            assertThat(Vectors.firstMismatch(ours.embeddings(), ref.embeddings(), ENCODER_ABS_TOL, ENCODER_REL_TOL))
                    .isEqualTo(-1);
            assertThat(Arrays.copyOfRange(ours.embeddings(), 128, 3 * 128))
                    .containsExactly(Arrays.copyOfRange(ref.embeddings(), 128, 3 * 128));
            for (int i = 0; i < 3; i++) {
                assertThat(ours.label(i)).isEqualTo(ref.label(i));
            }
        }
    }

    @Test
    void rowsAreIndependentOfTheBatch() throws Exception {
        try (ImageBatch batch = images(5); VitEncoder vit = VitEncoder.create(config(modelDir()).build())) {
            VitOutput all = vit.encode(pixels(batch));
            VitOutput third = vit.encode(pixels(batch).view(2 * 784, 1, 1, 28, 28));
            for (int j = 0; j < 128; j++) {
                assertThat(third.embeddings()[j]).isCloseTo(all.embeddings()[2 * 128 + j],
                        org.assertj.core.data.Offset.offset(1e-5f));
            }
            assertThat(third.label(0)).isEqualTo(all.label(2));
        }
    }

    @Test
    void poolingNormalisationAndProbabilities() throws Exception {
        try (ImageBatch batch = images(4);
             VitEncoder cls = VitEncoder.create(config(modelDir()).build());
             VitEncoder mean = VitEncoder.create(config(modelDir()).pooling(PoolingMode.MEAN).normalize(true).build())) {
            assertThat(cls.pooling()).as("the model config says cls").isEqualTo(PoolingMode.CLS);
            VitOutput c = cls.encode(pixels(batch));
            VitOutput m = mean.encode(pixels(batch));
            assertThat(m.logits()).as("logits always come from the class token").containsExactly(c.logits());
            for (int r = 0; r < 4; r++) {
                double norm = 0;
                double p = 0;
                for (int j = 0; j < 128; j++) {
                    norm += m.embeddings()[r * 128 + j] * m.embeddings()[r * 128 + j];
                }
                for (int k = 0; k < 10; k++) {
                    p += c.probabilities()[r * 10 + k];
                }
                assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
                assertThat(p).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
                assertThat(Vectors.cosine(m.embeddings(), r * 128, c.embeddings(), r * 128, 128)).isLessThan(0.9999);
            }
        }
    }

    /** Copies the trained model into {@code dir}, renaming (null: dropping) tensors and rewriting config.json. */
    private static Path copyModel(Path dir, UnaryOperator<String> rename, UnaryOperator<WeightArray> change,
                                  String config, List<WeightArray> extra) throws Exception {
        Files.createDirectories(dir);
        List<WeightArray> out = new ArrayList<>();
        try (SafetensorsFile f = SafetensorsFile.open(modelDir().resolve("model.safetensors"))) {
            for (String name : f.entries().keySet()) {
                String to = rename.apply(name);
                if (to != null) {
                    WeightArray w = f.read(name).orElseThrow();
                    out.add(change.apply(new WeightArray(to, w.shape(), w.data())));
                }
            }
        }
        out.addAll(extra);
        SafetensorsWriter.writeF32(dir.resolve("model.safetensors"), out);
        Files.writeString(dir.resolve("config.json"), config);
        return dir;
    }

    private static String vitConfig() throws Exception {
        return Files.readString(modelDir().resolve("config.json"));
    }

    /** HF ViT name -> CLIP vision name (classifier kept). */
    static String toClip(String n) {
        String s = n.replace("vit.embeddings.cls_token", "vision_model.embeddings.class_embedding")
                .replace("vit.embeddings.position_embeddings", "vision_model.embeddings.position_embedding.weight")
                .replace("vit.embeddings.patch_embeddings.projection", "vision_model.embeddings.patch_embedding")
                .replace("vit.layernorm", "vision_model.post_layernorm")
                .replace("vit.encoder.layer.", "vision_model.encoder.layers.")
                .replace("layernorm_before", "layer_norm1").replace("layernorm_after", "layer_norm2")
                .replace("attention.attention.query", "self_attn.q_proj")
                .replace("attention.attention.key", "self_attn.k_proj")
                .replace("attention.attention.value", "self_attn.v_proj")
                .replace("attention.output.dense", "self_attn.out_proj")
                .replace("intermediate.dense", "mlp.fc1").replace("output.dense", "mlp.fc2");
        return s;
    }

    @Test
    void clipVisionLayoutLoadsTheSameWeights() throws Exception {
        // CLIP's patch embedding has no bias: compare against the ViT with its patch bias zeroed
        Path vitDir = copyModel(tmp.resolve("vit"), n -> n,
                w -> w.name().endsWith("patch_embeddings.projection.bias") ? zeros(w) : w, vitConfig(), List.of());
        String clipConfig = vitConfig().replace("\"model_type\": \"vit\"", "\"model_type\": \"clip_vision_model\"");
        float[] ones = new float[128];
        Arrays.fill(ones, 1f);
        Path clipDir = copyModel(tmp.resolve("clip"), n -> n.endsWith("patch_embeddings.projection.bias") ? null : toClip(n),
                w -> reshapeClip(w), clipConfig, List.of(new WeightArray("vision_model.pre_layrnorm.weight", new int[] {128}, ones),
                        new WeightArray("vision_model.pre_layrnorm.bias", new int[] {128}, new float[128])));
        VitConfig c = VitConfig.read(clipDir.resolve("config.json"));
        assertThat(c.layout()).isEqualTo(VitLayout.CLIP_VISION);
        assertThat(c.activation()).as("explicit hidden_act wins over CLIP's default").isEqualTo(VitConfig.Activation.GELU);
        try (ImageBatch batch = images(6);
             FastCpuBackend backend = new FastCpuBackend(allocator, 2);
             SafetensorsWeights vs = SafetensorsWeights.open(vitDir);
             SafetensorsWeights cs = SafetensorsWeights.open(clipDir);
             VitWeights vw = VitWeights.load(vs, VitConfig.read(vitDir.resolve("config.json")), backend);
             VitWeights cw = VitWeights.load(cs, c, backend);
             VitTransformer vit = new VitTransformer(backend, VitConfig.read(vitDir.resolve("config.json")), vw);
             VitTransformer clipNoPre = new VitTransformer(backend, c, cw.withoutPreNorm());
             VitTransformer clip = new VitTransformer(backend, c, cw)) {
            assertThat(cw.preNormGamma).isNotNull();
            assertThat(cw.patchBias).isNull();
            float[] expected = backend.download(vit.forward(pixels(batch)));
            float[] same = backend.download(clipNoPre.forward(pixels(batch)));
            assertThat(Vectors.maxAbsDiff(same, expected)).isLessThanOrEqualTo(SAME_MODEL_ABS_TOL);
            // CLIP's pre-LayerNorm (gamma 1, beta 0) still normalises the embeddings: a different, finite result
            float[] withPre = backend.download(clip.forward(pixels(batch)));
            assertThat(Vectors.maxAbsDiff(withPre, expected)).isGreaterThan(1e-3);
            for (float v : withPre) {
                assertThat(Float.isFinite(v)).isTrue();
            }
        }
        try (ImageBatch batch = images(2); VitEncoder enc = VitEncoder.create(config(clipDir).build())) {
            assertThat(enc.labels()).hasSize(10);
            assertThat(enc.encode(pixels(batch)).logits()).hasSize(20);
        }
    }

    private static WeightArray zeros(WeightArray w) {
        return new WeightArray(w.name(), w.shape(), new float[w.data().length]);
    }

    /** CLIP stores the class embedding as [d] and the position table as [tokens, d]. */
    private static WeightArray reshapeClip(WeightArray w) {
        if (w.name().equals("vision_model.embeddings.class_embedding")) {
            return new WeightArray(w.name(), new int[] {w.data().length}, w.data());
        }
        if (w.name().equals("vision_model.embeddings.position_embedding.weight")) {
            return new WeightArray(w.name(), new int[] {w.shape()[1], w.shape()[2]}, w.data());
        }
        return w;
    }

    @Test
    void missingTensorFailsWithItsName() throws Exception {
        String gone = "vit.encoder.layer.2.attention.attention.key.weight";
        Path dir = copyModel(tmp.resolve("missing"), n -> n.equals(gone) ? null : n, w -> w, vitConfig(), List.of());
        assertThatThrownBy(() -> VitEncoder.create(config(dir).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(gone).hasMessageContaining("[128, 128]");
    }

    @Test
    void misShapedTensorFailsWithBothShapes() throws Exception {
        String name = "vit.encoder.layer.1.intermediate.dense.weight";
        Path dir = copyModel(tmp.resolve("shape"), n -> n,
                w -> w.name().equals(name) ? new WeightArray(name, new int[] {128, 256}, w.data()) : w, vitConfig(), List.of());
        assertThatThrownBy(() -> VitEncoder.create(config(dir).build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(name).hasMessageContaining("[256, 128]").hasMessageContaining("[128, 256]");
    }

    @Test
    void configErrorsNameTheKey() throws Exception {
        Path dir = copyModel(tmp.resolve("cfg"), n -> n, w -> w, vitConfig().replace("\"patch_size\": 4,", ""), List.of());
        assertThatThrownBy(() -> VitEncoder.create(config(dir).build())).hasMessageContaining("patch_size");
        Files.writeString(dir.resolve("config.json"), vitConfig().replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"relu\""));
        assertThatThrownBy(() -> VitEncoder.create(config(dir).build())).hasMessageContaining("hidden_act 'relu'");
        Files.writeString(dir.resolve("config.json"), vitConfig().replace("\"model_type\": \"vit\"", "\"model_type\": \"deit\""));
        assertThatThrownBy(() -> VitEncoder.create(config(dir).build())).hasMessageContaining("model_type 'deit'");
    }

    @Test
    void wrongInputShapeFailsNamingTheExpectedShape() throws Exception {
        try (VitEncoder vit = VitEncoder.create(config(modelDir()).build());
             ImageBatch batch = new ImageBatch(allocator, 3, 28, 28, 1)) {
            batch.append(new float[3 * 28 * 28], 28, 28);
            assertThatThrownBy(() -> vit.encode(Tensor.wrap(batch.pixelValuesBuffer(), DType.FLOAT32, 1, 3, 28, 28)))
                    .hasMessageContaining("[batch, 1, 28, 28]");
        }
    }

    @Test
    void builderChecks() {
        assertThatThrownBy(() -> VitEncoderConfig.builder().build()).hasMessageContaining("modelDir");
        assertThatThrownBy(() -> VitEncoderConfig.builder().modelResource("x").pooling(PoolingMode.LAST_TOKEN).build())
                .hasMessageContaining("LAST_TOKEN");
        assertThat(VitEncoderConfig.builder().modelResource("models/vit-fashion-mnist/").build().modelName())
                .isEqualTo("vit-fashion-mnist");
    }
}
