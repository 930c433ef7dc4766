package io.inflow.e2e;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.encoder.vit.VitEncoder;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImageDecoder;
import io.inflow.gpu.image.ImageDecoderConfig;
import io.inflow.jobs.config.ImageOptions;
import io.inflow.jobs.config.PipelineOptions;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.demo.SampleData;
import io.inflow.jobs.demo.SampleImages;
import io.inflow.operators.embed.ImageEncoderSpec;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ImageEvent;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RecordCodec;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Image events end to end through a real Kafka broker and the pipeline on a MiniCluster: the bundled image sample
 * (200 inline PNGs, 12 {@code file:} URIs under the configured root, 12 broken images) plus an RGB JPEG that needs
 * resizing and an inline image over the record limit. Every input offset must come out exactly once; broken images
 * must reach the dead-letter topic with their original bytes and the expected kind; every enriched image must carry
 * what the ViT gives for that image run on its own (so decoding, batching and row order in the pipeline change
 * nothing), its top classes and the model version.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class ImageEventsEndToEndTest {

    /** Generous for a loaded 2-core CI machine; the run itself takes about 15 s. */
    private static final Duration OUTPUT_WAIT = Duration.ofMinutes(4);
    /** CPU: batched vs single-image runs differ only in float summation order (JSON floats round-trip exactly). */
    private static final double SAME_VECTOR_COSINE = 1 - 1e-5;
    /** float32 sums of 128 squares: the norm of an L2-normalised vector is 1 within a few ulps. */
    private static final double UNIT_NORM_TOLERANCE = 1e-5;

    private Path imageRoot;
    private PipelineUnderTest pipeline;
    private OutputAudit audit;
    private final List<byte[][]> produced = new ArrayList<>();
    private List<RecordMetadata> landed;
    /** Record key to the dead-letter kind it must get; keys not here must be enriched. */
    private final Map<String, String> expectedKinds = new HashMap<>();

    @BeforeAll
    void runPipeline() throws Exception {
        assumeBackendPresent();
        imageRoot = Files.createTempDirectory("inflow-e2e-images-");
        SampleImages sample = SampleImages.load();
        for (SampleData.Record r : sample.records(imageRoot)) {
            produced.add(new byte[][] {PipelineUnderTest.utf8(r.key()), r.value()});
        }
        expectedKinds.putAll(sample.expectedKinds());
        produced.add(new byte[][] {PipelineUnderTest.utf8("rgb-jpeg"), imageEvent("rgb-jpeg", jpeg(64, 48))});
        byte[] noise = new byte[900_000];
        new Random(7).nextBytes(noise);
        produced.add(new byte[][] {PipelineUnderTest.utf8("over-record-limit"),
                imageEvent("over-record-limit", noise)});
        expectedKinds.put("over-record-limit", "oversize_record");

        Configuration conf = new Configuration();
        conf.set(ImageOptions.ROOT, imageRoot.toString());
        conf.set(PipelineOptions.COMPUTE_BACKEND, backend());
        configure(conf);
        pipeline = PipelineUnderTest.start(conf, UnaryOperator.identity());
        audit = pipeline.audit();
        landed = pipeline.produce(pipeline.settings.topics().image(), produced);
        assertThat(audit.awaitTotal(produced.size(), OUTPUT_WAIT, a -> { }))
                .as("all %d inputs produce an output within %s (%s)", produced.size(), OUTPUT_WAIT, audit.summary())
                .isTrue();
        audit.poll(Duration.ofSeconds(3)); // a duplicate would arrive after the total was reached
    }

    /** More pipeline settings of a subclass (none here). */
    protected void configure(Configuration conf) {
    }

    /** The backend the pipeline computes on; the expected results always come from the CPU. */
    protected BackendKind backend() {
        return BackendKind.CPU;
    }

    /** Skips the class where the backend cannot run. */
    protected void assumeBackendPresent() {
    }

    /** Least cosine between a pipeline embedding and the CPU encoder's for that image alone. */
    protected double sameVectorCosine() {
        return SAME_VECTOR_COSINE;
    }

    /** Largest difference of the top class's probability. */
    protected double probabilityTolerance() {
        return 1e-5;
    }

    /** Least share of images whose top-1 class equals the CPU encoder's. */
    protected double top1Agreement() {
        return 1.0;
    }

    /** The backend label the metrics carry. */
    protected String backendLabel() {
        return "cpu-fast";
    }

    private static byte[] imageEvent(String id, byte[] image) {
        return RecordCodec.encode(new ImageEvent(id, Base64.getEncoder().encodeToString(image), null, null, null,
                Map.of()));
    }

    /** A colour gradient with a disc, as a JPEG (RGB, needs conversion to gray and resizing to 28 x 28). */
    private static byte[] jpeg(int w, int h) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                boolean disc = Math.hypot(x - w / 2.0, y - h / 2.0) < h / 3.0;
                img.setRGB(x, y, disc ? 0xF0E0D0 : ((x * 4) << 16) | ((y * 5) << 8) | 40);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpeg", out);
        return out.toByteArray();
    }

    @AfterAll
    void stop() throws Exception {
        OutputChecks.stop(audit, pipeline);
        if (imageRoot != null) {
            try (var files = Files.walk(imageRoot)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void everyImageOffsetComesOutExactlyOnce() {
        OutputChecks.everyInputExactlyOnce(audit, landed);
        assertThat(audit.enriched()).hasSize(produced.size() - expectedKinds.size());
        assertThat(audit.deadLetters()).hasSize(expectedKinds.size());
    }

    @Test
    void brokenImagesAreDeadLetteredWithTheirBytesAndTheExpectedKind() {
        Map<String, byte[][]> byOffset = new HashMap<>();
        for (int i = 0; i < landed.size(); i++) {
            byOffset.put(landed.get(i).partition() + "@" + landed.get(i).offset(), produced.get(i));
        }
        Map<String, String> kinds = new HashMap<>();
        for (DeadLetterRecord d : audit.deadLetters()) {
            byte[][] original = byOffset.get(d.source().partition() + "@" + d.source().offset());
            assertThat(original).as("dead letter points at a produced offset").isNotNull();
            assertThat(d.source().topic()).isEqualTo(pipeline.settings.topics().image());
            OutputChecks.carriesOriginal(d, original[0], original[1]);
            assertThat(d.message()).isNotBlank();
            // envelope problems are found by the JSON decoder, pixel problems by the image decoder
            assertThat(d.stage()).isEqualTo(d.kind().wireName().startsWith("image_") ? "image-decode" : "decode");
            kinds.put(new String(d.key(), StandardCharsets.UTF_8), d.kind().wireName());
        }
        assertThat(kinds).isEqualTo(expectedKinds);
    }

    @Test
    void enrichedImagesCarryWhatTheVitGivesForEachImageAlone() throws Exception {
        Map<String, byte[]> valueById = new HashMap<>();
        for (byte[][] kv : produced) {
            valueById.put(new String(kv[0], StandardCharsets.UTF_8), kv[1]);
        }
        InputDecoder envelopes = new InputDecoder(Limits.defaults());
        ImageDecoder pixels = new ImageDecoder(ImageDecoderConfig.builder().imageRoot(imageRoot).build());
        int labelled = 0;
        int right = 0;
        int agree = 0;
        try (VitEncoder vit = VitEncoder.create(ImageEncoderSpec.bundled(BackendKind.CPU, 1).toConfig());
             BufferAllocator alloc = new RootAllocator();
             DecodedImageBatch one = new DecodedImageBatch(alloc, 1)) {
            for (EnrichedEvent e : audit.enriched()) {
                assertThat(e.inputType()).isEqualTo(EnrichedEvent.INPUT_IMAGE);
                assertThat(e.model().name()).isEqualTo("vit-fashion-mnist");
                assertThat(e.model().version()).matches("sha256:[0-9a-f]{12}/cls/l2");
                assertThat(e.tokenCount()).isNull();
                assertThat(e.embeddingDim()).isEqualTo(128);
                double norm = 0;
                for (float v : e.embedding()) {
                    norm += v * v;
                }
                assertThat(Math.sqrt(norm)).as("L2 norm of %s", e.id()).isCloseTo(1.0, within(UNIT_NORM_TOLERANCE));
                assertThat(e.scores()).as("top-3 classes of %s", e.id()).hasSize(3);
                assertThat(e.scores().get(0).score()).isGreaterThanOrEqualTo(e.scores().get(1).score());
                assertThat(e.scores().get(1).score()).isGreaterThanOrEqualTo(e.scores().get(2).score());

                DecodedImage img = pixels.decode(envelopes.decodeImage(valueById.get(e.id())));
                one.clear();
                one.append(img);
                VitOutput alone = vit.encode(one);
                if (e.scores().get(0).label().equals(alone.label(0))) {
                    agree++;
                    assertThat(e.scores().get(0).score()).as("top-1 probability of %s", e.id())
                            .isCloseTo(alone.probabilities()[alone.argmax(0)], within(probabilityTolerance()));
                }
                assertThat(OutputChecks.cosine(e.embedding(), alone.embeddings())).as("embedding of %s", e.id())
                        .isGreaterThan(sameVectorCosine());
                if (e.attributes().containsKey("label")) {
                    labelled++;
                    right += e.scores().get(0).label().equals(e.attributes().get("label")) ? 1 : 0;
                }
            }
        }
        assertThat(agree / (double) audit.enriched().size()).as("top-1 agreement with the CPU encoder")
                .isGreaterThanOrEqualTo(top1Agreement());
        assertThat(labelled).isEqualTo(212);
        // the model's t10k accuracy is 88.48%; on these 212 images the binomial spread is about +-2.2 points
        assertThat(right / (double) labelled).as("top-1 accuracy on the sample").isGreaterThan(0.8);
    }

    @Test
    void imageMetricsCountEveryImageByStageAndReason() throws Exception {
        String body = MetricsScrape.get(pipeline.flink.metricsUrl());
        String job = pipeline.jobName;
        int enriched = produced.size() - expectedKinds.size();
        long pixelRejects = expectedKinds.values().stream().filter(k -> k.startsWith("image_")).count();
        assertThat(MetricsScrape.sum(body, job, "inflow_records_in_total", "operator", "decode", "modality", "image"))
                .isEqualTo(produced.size());
        assertThat(MetricsScrape.sum(body, job, "inflow_dead_letters_total", "operator", "image-decode"))
                .isEqualTo(pixelRejects);
        assertThat(MetricsScrape.sum(body, job, "inflow_dead_letters_total", "operator", "image-decode",
                "reason", "image_too_large")).isEqualTo(2);
        assertThat(MetricsScrape.sum(body, job, "inflow_records_in_total", "operator", "embed", "modality", "image"))
                .isEqualTo(enriched);
        assertThat(MetricsScrape.sum(body, job, "inflow_records_out_total", "operator", "embed", "modality", "image"))
                .isEqualTo(enriched);
        assertThat(MetricsScrape.sum(body, job, "inflow_batch_size_records_sum", "modality", "image"))
                .isEqualTo(enriched);
        assertThat(body).containsPattern("inflow_model_info\\{backend=\"" + backendLabel() + "\",job=\"" + job
                + "\",model=\"vit-fashion-mnist\",operator=\"embed\",version=\"sha256:[0-9a-f]{12}/cls/l2\"} 1");
    }
}
