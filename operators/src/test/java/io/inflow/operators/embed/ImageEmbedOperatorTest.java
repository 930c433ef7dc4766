package io.inflow.operators.embed;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.encoder.vit.VitEncoder;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.gpu.image.DecodedImage;
import io.inflow.operators.batch.ImageBatchingConfig;
import io.inflow.operators.image.DecodedImageEvent;
import io.inflow.operators.testing.Harnesses;
import io.inflow.schemas.RawRecord;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.Float16;
import io.inflow.schemas.SourceRef;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The image batching operator under Flink's harness with the real bundled Fashion-MNIST ViT on the CPU: each
 * emitted event must carry what the encoder gives for that image alone (so rows are neither mixed up nor reordered
 * by batching), the top classes in order and the model version.
 */
@Timeout(120)
class ImageEmbedOperatorTest {

    /** Batched and single-image runs differ only in float summation order: cosine within 1e-5 of 1. */
    private static final double SAME_VECTOR_COSINE = 1 - 1e-5;
    private static final long MAX_WAIT_MS = 50;

    private static VitEncoder reference;
    private OneInputStreamOperatorTestHarness<DecodedImageEvent, EncodedRecord> harness;

    @BeforeAll
    static void loadReference() throws Exception {
        reference = VitEncoder.create(ImageEncoderSpec.bundled(BackendKind.CPU, 1).toConfig());
    }

    @AfterAll
    static void closeReference() {
        reference.close();
    }

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close(); // closes the operator's Arrow allocator: fails on a leaked batch
        }
    }

    private void open(int maxRecords, long maxPixelBytes, EmbeddingEncoding encoding, int topK) throws Exception {
        ImageBatchingConfig cfg = new ImageBatchingConfig(maxRecords, maxPixelBytes, Duration.ofMillis(MAX_WAIT_MS), 2);
        harness = new OneInputStreamOperatorTestHarness<>(new ImageEmbedOperatorFactory(cfg,
                new VitCompute(ImageEncoderSpec.bundled(BackendKind.CPU, 1)), encoding, topK,
                new OutputEncoder(1 << 20)));
        harness.open();
    }

    /** A deterministic image: smooth blobs (so the classifier is not flat), gray or RGB, any size. */
    private static DecodedImage image(int seed, int w, int h, int channels) {
        Random rnd = new Random(seed);
        double cx = w * (0.3 + 0.4 * rnd.nextDouble());
        double cy = h * (0.3 + 0.4 * rnd.nextDouble());
        double r = Math.min(w, h) * (0.2 + 0.3 * rnd.nextDouble());
        byte[] px = new byte[w * h * channels];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double d = Math.hypot(x - cx, (y - cy) * (0.5 + rnd.nextDouble() * 0.01));
                int v = d < r ? 255 - (int) (200 * d / r) : rnd.nextInt(20);
                for (int c = 0; c < channels; c++) {
                    px[(y * w + x) * channels + c] = (byte) Math.max(0, v - 30 * c);
                }
            }
        }
        return new DecodedImage(w, h, channels, px, null);
    }

    private static StreamRecord<DecodedImageEvent> event(String id, DecodedImage img, long offset) {
        return new StreamRecord<>(DecodedImageEvent.decoded(id, Map.of("k", id),
                new RawRecord("events.image", 1, offset, 5000 + offset, null, new byte[] {1}), img), 5000 + offset);
    }

    private static VitOutput alone(DecodedImage img) {
        try (BufferAllocator alloc = new RootAllocator();
             DecodedImageBatch one = new DecodedImageBatch(alloc, 1)) {
            one.append(img);
            return reference.encode(one);
        }
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void eachEventCarriesItsOwnImagesEmbeddingAndTopClassesInOrder() throws Exception {
        open(4, 1 << 20, EmbeddingEncoding.FLOAT32, 3);
        List<DecodedImage> images = List.of(image(1, 28, 28, 1), image(2, 64, 48, 3), image(3, 28, 28, 1),
                image(4, 17, 90, 1), image(5, 300, 200, 3), image(6, 28, 28, 1), image(7, 5, 5, 3));
        for (int i = 0; i < images.size(); i++) {
            harness.processElement(event("img-" + i, images.get(i), 10 + i));
        }
        harness.endInput();
        List<EnrichedEvent> out = Harnesses.awaitOutputs(harness, images.size());
        assertThat(out).extracting(EnrichedEvent::id)
                .containsExactly("img-0", "img-1", "img-2", "img-3", "img-4", "img-5", "img-6");
        for (int i = 0; i < images.size(); i++) {
            EnrichedEvent e = out.get(i);
            VitOutput want = alone(images.get(i));
            assertThat(e.inputType()).isEqualTo(EnrichedEvent.INPUT_IMAGE);
            assertThat(e.tokenCount()).isNull();
            assertThat(e.source()).isEqualTo(new SourceRef("events.image", 1, 10 + i, 5010 + i));
            assertThat(e.attributes()).containsEntry("k", "img-" + i);
            assertThat(e.embeddingDim()).isEqualTo(128);
            assertThat(cosine(e.embedding(), want.embeddings())).as("image %d", i).isGreaterThan(SAME_VECTOR_COSINE);
            assertThat(e.scores()).hasSize(3);
            assertThat(e.scores().get(0).label()).as("top-1 of image %d", i).isEqualTo(want.label(0));
            assertThat(e.scores().get(0).score()).isGreaterThanOrEqualTo(e.scores().get(1).score());
            assertThat(e.scores().get(1).score()).isGreaterThanOrEqualTo(e.scores().get(2).score());
            assertThat(e.scores().get(0).score())
                    .isCloseTo(want.probabilities()[want.argmax(0)], within(1e-4));
        }
        assertThat(out.get(0).model().name()).isEqualTo("vit-fashion-mnist");
        assertThat(out.get(0).model().version()).matches("sha256:[0-9a-f]{12}/cls/l2");
    }

    @Test
    void aBatchIsFullAtItsPixelByteLimitAndFlushesAfterMaxWait() throws Exception {
        open(64, 2 * 784, EmbeddingEncoding.OMIT, 0);
        harness.setProcessingTime(0);
        // Outputs arrive through the mailbox only, so "no output yet" would prove nothing: the flush count is
        // recorded on this thread when the operator hands a batch to compute.
        long flushed = Harnesses.batchesFlushed(ImageEmbedOperatorFactory.MODALITY);
        harness.processElement(event("a", image(1, 28, 28, 1), 1));
        assertThat(Harnesses.batchesFlushed(ImageEmbedOperatorFactory.MODALITY)).as("784 bytes of 1,568: not full")
                .isEqualTo(flushed);
        harness.processElement(event("b", image(2, 28, 28, 1), 2));
        assertThat(Harnesses.batchesFlushed(ImageEmbedOperatorFactory.MODALITY)).as("1,568 bytes: full")
                .isEqualTo(flushed + 1);
        assertThat(Harnesses.awaitOutputs(harness, 2)).extracting(EnrichedEvent::id).containsExactly("a", "b");
        harness.processElement(event("c", image(3, 28, 28, 1), 3));
        harness.setProcessingTime(MAX_WAIT_MS - 1);
        assertThat(Harnesses.batchesFlushed(ImageEmbedOperatorFactory.MODALITY)).as("c waits until max-wait")
                .isEqualTo(flushed + 1);
        harness.setProcessingTime(MAX_WAIT_MS);
        assertThat(Harnesses.batchesFlushed(ImageEmbedOperatorFactory.MODALITY)).as("flushed at max-wait")
                .isEqualTo(flushed + 2);
        List<EnrichedEvent> out = Harnesses.awaitOutputs(harness, 3);
        assertThat(out).extracting(EnrichedEvent::id).containsExactly("a", "b", "c");
        assertThat(out.get(2).embedding()).isNull();
        assertThat(out.get(2).embeddingF16Base64()).isNull();
        assertThat(out.get(2).scores()).isEmpty();
    }

    @Test
    void anImageThatDoesNotFitTheOpenBatchFlushesItAndFormsABatchOfItsOwn() throws Exception {
        open(64, 2 * 784, EmbeddingEncoding.OMIT, 0);
        long flushed = Harnesses.batchesFlushed(ImageEmbedOperatorFactory.MODALITY);
        harness.processElement(event("a", image(1, 28, 28, 1), 1));
        // 40 x 30 x 3 = 3,600 bytes: over the 1,568-byte limit even alone; it must not join a's batch
        harness.processElement(event("big", image(2, 40, 30, 3), 2));
        assertThat(Harnesses.batchesFlushed(ImageEmbedOperatorFactory.MODALITY))
                .as("a's batch handed over before big was appended, then big's own (full) batch").isEqualTo(flushed + 2);
        assertThat(Harnesses.awaitOutputs(harness, 2)).extracting(EnrichedEvent::id).containsExactly("a", "big");
    }

    @Test
    void encodesHalfFloatsAndAllClassScores() throws Exception {
        open(64, 1 << 20, EmbeddingEncoding.FLOAT16_BASE64, 10);
        harness.processElement(event("a", image(1, 28, 28, 1), 1));
        harness.processElement(event("b", image(2, 40, 30, 3), 2));
        harness.endInput();
        List<EnrichedEvent> out = Harnesses.outputs(harness);
        assertThat(out).extracting(EnrichedEvent::id).containsExactly("a", "b");
        assertThat(out.get(0).scores()).hasSize(10);
        double sum = out.get(0).scores().stream().mapToDouble(EnrichedEvent.Score::score).sum();
        assertThat(sum).as("all 10 class probabilities").isCloseTo(1.0, within(1e-4));
        float[] f16 = Float16.decodeBase64(out.get(1).embeddingF16Base64());
        assertThat(cosine(f16, alone(image(2, 40, 30, 3)).embeddings())).isGreaterThan(0.999);
    }
}
