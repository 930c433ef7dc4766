package io.inflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.encoder.vit.VitEncoder;
import io.inflow.gpu.image.ImageDecoder;
import io.inflow.gpu.image.ImageDecoderConfig;
import io.inflow.jobs.config.RetrievalOptions;
import io.inflow.jobs.demo.OutputAudit;
import io.inflow.jobs.demo.SampleData;
import io.inflow.jobs.demo.SampleImages;
import io.inflow.operators.embed.ImageEncoderSpec;
import io.inflow.schemas.CorpusRecord;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ImageEvent;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RecordCodec;
import io.inflow.schemas.TextEvent;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Image retrieval end to end: a real broker, the pipeline with retrieval and images on, on a MiniCluster at
 * parallelism 2. The corpus holds 40 Fashion-MNIST images of the bundled sample (inline PNGs), 10 texts, a document
 * that changes modality (a text, then an image) and an undecodable image. Image events must come out with the
 * neighbours a brute force over the ViT's vectors of the same images gives (ids in order up to near ties, scores
 * within {@link #SCORE_TOLERANCE}), from the image index only; a text event with text neighbours only; the bad image
 * dead-lettered with an image error kind; an image document upserted (as pixels, and as a precomputed ViT embedding),
 * deleted and tombstoned with kcat changes the next answers; every event exactly once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class ImageRetrievalEndToEndTest {

    private static final Duration WAIT = Duration.ofMinutes(4);
    private static final int IMAGE_DOCS = 40;
    private static final int TEXT_DOCS = 10;
    private static final int K = 5;
    /**
     * The job embeds images in batches, the test one at a time (CPU, float32 index): the vectors differ in float
     * summation order only (about 1e-6); scores are compared within this, and a near tie (two brute-force scores
     * closer than it) may swap.
     */
    private static final double SCORE_TOLERANCE = 1e-4;

    private PipelineUnderTest pipeline;
    private OutputAudit audit;
    /** The image documents the index must hold: id to image base64. */
    private final Map<String, String> imageDocs = new LinkedHashMap<>();
    private final List<String> images = new ArrayList<>();
    private final List<String> texts = new ArrayList<>();
    private VitEncoder vit;
    private BufferAllocator allocator;
    private DecodedImageBatch one;
    private final ImageDecoder pixels = new ImageDecoder(ImageDecoderConfig.defaults());
    private final Map<String, float[]> vectors = new HashMap<>();
    private int probes;

    @BeforeAll
    void start() throws Exception {
        ExternalTools.requireOnPath("kcat");
        Configuration conf = new Configuration();
        conf.set(RetrievalOptions.ENABLED, true);
        conf.set(RetrievalOptions.K, K);
        conf.set(RetrievalOptions.STORAGE, "float32");
        pipeline = PipelineUnderTest.start(conf, UnaryOperator.identity());
        audit = pipeline.audit();
        vit = VitEncoder.create(ImageEncoderSpec.bundled(BackendKind.CPU, 1).toConfig());
        allocator = new RootAllocator();
        one = new DecodedImageBatch(allocator, 1);

        InputDecoder envelopes = new InputDecoder(Limits.defaults());
        Path root = Files.createTempDirectory("inflow-e2e-image-retrieval-");
        for (SampleData.Record r : SampleImages.load().records(root)) {
            if (!r.malformed()) {
                ImageEvent e = envelopes.decodeImage(r.value());
                if (e.imageBase64() != null) {
                    images.add(e.imageBase64());
                }
            }
        }
        for (SampleData.Record r : SampleData.load().mixed()) {
            if (!r.malformed()) {
                var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.value());
                if (node.hasNonNull("text") && node.get("text").isTextual()) {
                    texts.add(node.get("text").asText());
                }
            }
        }
        List<byte[][]> corpus = new ArrayList<>();
        for (int i = 0; i < IMAGE_DOCS; i++) {
            imageDocs.put("i" + i, images.get(i));
            corpus.add(record(CorpusRecord.imageUpsert("i" + i, images.get(i), null, "image/png", Map.of(), null)));
        }
        for (int i = 0; i < TEXT_DOCS; i++) {
            corpus.add(record(new CorpusRecord("t" + i, CorpusRecord.Op.UPSERT, texts.get(i), Map.of(), null)));
        }
        // a document that changes modality: it must end in the image index only
        corpus.add(record(new CorpusRecord("m", CorpusRecord.Op.UPSERT, texts.get(TEXT_DOCS), Map.of(), null)));
        corpus.add(record(CorpusRecord.imageUpsert("m", images.get(IMAGE_DOCS), null, null, Map.of(), null)));
        imageDocs.put("m", images.get(IMAGE_DOCS));
        // valid base64 that is no image: dead-lettered by the pixel decoder
        corpus.add(record(CorpusRecord.imageUpsert("bad", Base64.getEncoder().encodeToString(
                "not an image at all".getBytes(StandardCharsets.UTF_8)), null, null, Map.of(), null)));
        pipeline.produce(pipeline.settings.topics().corpus(), corpus);
        awaitIndexed(imageDocs.size());
    }

    private static byte[][] record(CorpusRecord r) {
        return new byte[][] {PipelineUnderTest.utf8(r.docId()), RecordCodec.encode(r)};
    }

    @AfterAll
    void stop() throws Exception {
        if (one != null) {
            one.close();
        }
        if (allocator != null) {
            allocator.close();
        }
        if (vit != null) {
            vit.close();
        }
        OutputChecks.stop(audit, pipeline);
    }

    @Test
    void imageEventsGetTheBruteForceImageNeighboursAndTextEventsTextOnes() throws Exception {
        // queries: 5 images that are documents (their own document first) and 5 that are not
        List<String> queries = new ArrayList<>(images.subList(0, 5));
        queries.addAll(images.subList(IMAGE_DOCS + 1, IMAGE_DOCS + 6));
        List<EnrichedEvent> answers = askImages(queries);
        for (int i = 0; i < answers.size(); i++) {
            EnrichedEvent a = answers.get(i);
            assertThat(a.inputType()).isEqualTo(EnrichedEvent.INPUT_IMAGE);
            assertThat(a.embeddingDim()).isEqualTo(128);
            assertThat(a.scores()).as("the class scores stay").isNotEmpty();
            assertNeighbours(a, queries.get(i));
            assertThat(a.index().documents()).isEqualTo(imageDocs.size());
            assertThat(a.index().shards()).hasSize(PipelineUnderTest.PARTITIONS);
        }
        for (int i = 0; i < 5; i++) {
            assertThat(answers.get(i).neighbours().get(0).docId()).as("an image finds its own document first")
                    .isEqualTo("i" + i);
        }

        // a text event: text neighbours only, from the text index (m moved to the image index)
        EnrichedEvent text = askText(texts.get(0));
        assertThat(text.neighbours()).hasSize(K);
        assertThat(text.neighbours().get(0).docId()).isEqualTo("t0");
        assertThat(text.neighbours()).extracting(EnrichedEvent.Neighbour::docId).allMatch(id -> id.startsWith("t"));
        assertThat(text.index().documents()).isEqualTo(TEXT_DOCS);

        // the undecodable image document is dead-lettered with its corpus record
        List<DeadLetterRecord> corpusLetters = audit.deadLetters().stream()
                .filter(d -> d.source().topic().equals(pipeline.settings.topics().corpus())).toList();
        assertThat(corpusLetters).singleElement().satisfies(d -> {
            assertThat(d.kind().wireName()).isIn("image_corrupt", "image_unsupported");
            assertThat(new String(d.key(), StandardCharsets.UTF_8)).isEqualTo("bad");
        });

        // kcat, as a user: a new image document (query 5's image), i1 deleted by JSON, i2 by a tombstone
        String bootstrap = pipeline.kafka.bootstrapServers();
        String corpus = pipeline.settings.topics().corpus();
        ExternalTools.kcatProduce(bootstrap, corpus, "k-new", new String(RecordCodec.encode(CorpusRecord.imageUpsert(
                "k-new", queries.get(5), null, "image/png", Map.of(), null)), StandardCharsets.UTF_8));
        ExternalTools.kcatProduce(bootstrap, corpus, "i1", new String(RecordCodec.encode(
                new CorpusRecord("i1", CorpusRecord.Op.DELETE, null, Map.of(), null)), StandardCharsets.UTF_8));
        ExternalTools.kcatTombstone(bootstrap, corpus, "i2");
        imageDocs.put("k-new", queries.get(5));
        imageDocs.remove("i1");
        imageDocs.remove("i2");
        awaitIndexed(imageDocs.size());
        List<String> again = List.of(queries.get(5), images.get(1), images.get(2));
        List<EnrichedEvent> after = askImages(again);
        assertThat(after.get(0).neighbours().get(0).docId()).isEqualTo("k-new");
        assertThat(after.get(0).neighbours().get(0).score()).isGreaterThan(1 - SCORE_TOLERANCE);
        for (int i = 0; i < after.size(); i++) {
            assertNeighbours(after.get(i), again.get(i));
            assertThat(after.get(i).neighbours()).extracting(EnrichedEvent.Neighbour::docId)
                    .doesNotContain("i1", "i2");
        }
        // a precomputed embedding of the image model (the ViT's own vector of an image no document holds): indexed
        // in the image index as it is, without pixels
        String vecImage = images.get(IMAGE_DOCS + 7);
        ExternalTools.kcatProduce(bootstrap, corpus, "k-vec", new String(RecordCodec.encode(
                CorpusRecord.embeddingUpsert("k-vec", embed(vecImage), ImageEncoderSpec.BUNDLED_MODEL_NAME, Map.of(),
                        null)), StandardCharsets.UTF_8));
        imageDocs.put("k-vec", vecImage);
        awaitIndexed(imageDocs.size());
        EnrichedEvent vec = askImages(List.of(vecImage)).get(0);
        assertThat(vec.neighbours().get(0).docId()).as("the precomputed image document").isEqualTo("k-vec");
        assertThat(vec.neighbours().get(0).score()).isGreaterThan(1 - SCORE_TOLERANCE);
        assertNeighbours(vec, vecImage);
        assertThat(askText(texts.get(1)).index().documents()).as("the text index is untouched")
                .isEqualTo(TEXT_DOCS);
        audit.poll(Duration.ofSeconds(2));
        assertThat(audit.duplicates()).as("exactly once").isEmpty();
    }

    /** Produces images as image events and returns their enriched events in the same order. */
    private List<EnrichedEvent> askImages(List<String> base64s) throws Exception {
        List<byte[][]> events = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (String b : base64s) {
            String id = "q" + (probes++);
            ids.add(id);
            events.add(new byte[][] {PipelineUnderTest.utf8(id),
                    RecordCodec.encode(new ImageEvent(id, b, null, "image/png", null, Map.of()))});
        }
        return await(ids, pipeline.settings.topics().image(), events);
    }

    private EnrichedEvent askText(String text) throws Exception {
        String id = "q" + (probes++);
        return await(List.of(id), pipeline.settings.topics().text(), List.<byte[][]>of(new byte[][] {
                PipelineUnderTest.utf8(id), RecordCodec.encode(new TextEvent(id, text, null, null, Map.of()))}))
                .get(0);
    }

    private List<EnrichedEvent> await(List<String> ids, String topic, List<byte[][]> events) throws Exception {
        int before = audit.enriched().size();
        pipeline.produce(topic, events);
        return NeighbourChecks.await(audit, before, ids, WAIT);
    }

    /** Asks an image probe until its answer was computed against {@code documents} image documents. */
    private void awaitIndexed(int documents) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        long seen = -1;
        while (System.nanoTime() < deadline) {
            seen = askImages(List.of(images.get(0))).get(0).index().documents();
            if (seen == documents) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the image index never reached " + documents + " documents (last " + seen + ")");
    }

    private void assertNeighbours(EnrichedEvent answer, String queryImage) throws Exception {
        float[] q = embed(queryImage);
        record Scored(String id, double score) {
        }
        List<Scored> all = new ArrayList<>();
        for (Map.Entry<String, String> d : imageDocs.entrySet()) {
            all.add(new Scored(d.getKey(), OutputChecks.cosine(q, embed(d.getValue()))));
        }
        all.sort(Comparator.comparingDouble((Scored s) -> -s.score).thenComparing(Scored::id));
        NeighbourChecks.assertRanking(answer, all.stream().map(Scored::id).toList(),
                all.stream().map(Scored::score).toList(), K, SCORE_TOLERANCE);
    }

    /** The ViT on one image alone (a batch of one). */
    private float[] embed(String base64) throws Exception {
        float[] cached = vectors.get(base64);
        if (cached != null) {
            return cached;
        }
        one.clear();
        one.append(pixels.decode(new ImageEvent("x", base64, null, null, null, Map.of())));
        float[] v = vit.encode(one).embeddings().clone();
        vectors.put(base64, v);
        return v;
    }
}
