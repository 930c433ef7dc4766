package io.inflow.sql;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.batch.DecodedImageBatch;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.gpu.image.ImageDecoder;
import io.inflow.gpu.image.ImageDecoderConfig;
import io.inflow.jobs.embedded.EmbeddedKafkaBroker;
import io.inflow.operators.embed.ImageEncoderSpec;
import io.inflow.operators.embed.VitCompute;
import io.inflow.schemas.ErrorKind;

import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.table.api.TableEnvironment;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code 'task' = 'image-embedding'} end to end with real parts: a Kafka broker, a JSON Kafka source table whose
 * {@code BYTES} column carries base64 PNGs (40 Fashion-MNIST t10k images of the demo sample, three broken images of
 * the demo's dead-letter set and one NULL), {@code INSERT INTO} a Kafka sink from {@code ML_PREDICT} on a local
 * MiniCluster. Each embedding, label and score is compared with {@link VitCompute} run directly on the same image in
 * this JVM; the broken rows must come back NULL and be counted by reason, and the job must finish.
 */
class MlPredictImageKafkaTest {

    private static final int IMAGES = 40;
    /**
     * Tolerance per embedding element and per score. The provider and the reference run the same weights and kernels
     * on the same pixels; only the batch differs (16 images in the provider, 1 in the reference), which can change
     * the GEMM's row blocking and so the order of float sums (at most about 1e-7 on unit-length 128-wide vectors; 0 was
     * measured on the CPU backend). 1e-5 keeps margin for another machine's kernels and is three orders below the
     * distance between the two closest different images of the set (checked below).
     */
    private static final double TOLERANCE = 1e-5;
    /** Broken images of the demo sample and the dead-letter reason each must be counted under. */
    private static final Map<String, ErrorKind> BROKEN = Map.of(
            "01-truncated-png", ErrorKind.IMAGE_CORRUPT,
            "02-tiff", ErrorKind.IMAGE_UNSUPPORTED,
            "04-header-bomb-png", ErrorKind.IMAGE_TOO_LARGE);

    @Test
    void imageEmbeddingMatchesVitComputeAndNullsBrokenImages() throws Exception {
        Map<Integer, byte[]> images = sampleImages();
        Map<Integer, ErrorKind> brokenIds = new LinkedHashMap<>();
        List<String> rows = new ArrayList<>();
        for (Map.Entry<Integer, byte[]> e : images.entrySet()) {
            rows.add(row(e.getKey(), e.getValue()));
            if (e.getKey() == 10) {
                rows.add("{\"id\": -1, \"image\": null}"); // a NULL image in the middle of the stream
            }
        }
        int id = 1000;
        for (Map.Entry<String, ErrorKind> b : BROKEN.entrySet()) {
            brokenIds.put(id, b.getValue());
            rows.add(rows.size() / 2, row(id++, brokenImage(b.getKey())));
        }
        double[] before = deadLetters();
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start(null)) {
            String bootstrap = kafka.bootstrapServers();
            SqlKafka.createTopics(bootstrap, "images", "image-answers");
            SqlKafka.produce(bootstrap, "images", rows);
            TableEnvironment tEnv = SqlKafka.tableEnv("ml-predict-image-it");
            tEnv.executeSql("CREATE TABLE images (id INT, image BYTES) WITH (" + SqlKafka.source("images", bootstrap)
                    + ")");
            tEnv.executeSql("CREATE TABLE answers (id INT, embedding ARRAY<FLOAT>, label STRING, score FLOAT) WITH ("
                    + SqlKafka.sink("image-answers", bootstrap) + ")");
            tEnv.executeSql("CREATE MODEL vit INPUT (image BYTES)"
                    + " OUTPUT (embedding ARRAY<FLOAT>, label STRING, score FLOAT) WITH ('provider' = 'inflow',"
                    + " 'task' = 'image-embedding', 'model' = 'vit-fashion-mnist', 'max-records' = '16',"
                    + " 'max-wait' = '200 ms')");
            long t0 = System.nanoTime();
            tEnv.executeSql("INSERT INTO answers SELECT id, embedding, label, score FROM ML_PREDICT(TABLE images,"
                    + " MODEL vit, DESCRIPTOR(image))").await(5, TimeUnit.MINUTES);
            System.out.printf("image job ran in %.1f s%n", (System.nanoTime() - t0) / 1e9);

            Map<Integer, JsonNode> out = SqlKafka.consume(bootstrap, "image-answers", rows.size());
            assertThat(out).hasSize(rows.size());
            for (int nullId : concat(List.of(-1), brokenIds.keySet())) {
                JsonNode r = out.get(nullId);
                assertThat(r.get("embedding").isNull() && r.get("label").isNull() && r.get("score").isNull())
                        .as("row %s is all NULL: %s", nullId, r).isTrue();
            }
            compareWithVit(images, out);
        }
        double[] after = deadLetters();
        for (ErrorKind kind : BROKEN.values()) {
            int k = List.copyOf(BROKEN.values()).indexOf(kind);
            assertThat(after[k] - before[k]).as("dead letters with reason %s", kind.wireName()).isEqualTo(1.0);
        }
    }

    /**
     * Each answer against {@link VitCompute} (the spec the provider builds for the bundled model) on the image alone.
     * The negative control: the two closest different images of the set are farther apart than the tolerance by a
     * wide margin, so an answer carrying another image's embedding (or a shifted row) would fail.
     */
    private static void compareWithVit(Map<Integer, byte[]> images, Map<Integer, JsonNode> out) throws Exception {
        VitCompute vit = new VitCompute(ImageEncoderSpec.bundled(BackendKind.CPU, 2));
        vit.open();
        Map<Integer, float[]> expected = new LinkedHashMap<>();
        double worstDiff = 0;
        double worstScore = 0;
        ImageDecoder decoder = new ImageDecoder(ImageDecoderConfig.defaults());
        try (RootAllocator alloc = new RootAllocator()) {
            for (Map.Entry<Integer, byte[]> e : images.entrySet()) {
                VitOutput ref;
                try (DecodedImageBatch batch = new DecodedImageBatch(alloc, 1)) {
                    batch.append(decoder.decode(e.getValue()));
                    ref = vit.compute(batch);
                }
                float[] want = Arrays.copyOf(ref.embeddings(), ref.dimension());
                expected.put(e.getKey(), want);
                JsonNode got = out.get(e.getKey());
                float[] embedding = SqlKafka.toFloats(got.get("embedding"));
                assertThat(embedding).as("width of image %s", e.getKey()).hasSize(want.length);
                double diff = maxAbsDiff(embedding, want);
                assertThat(diff).as("max abs diff of image %s", e.getKey()).isLessThanOrEqualTo(TOLERANCE);
                assertThat(got.get("label").asText()).as("label of image %s", e.getKey()).isEqualTo(ref.label(0));
                double score = Math.abs(SqlKafka.toFloat(got.get("score")) - ref.probabilities()[ref.argmax(0)]);
                assertThat(score).as("score of image %s", e.getKey()).isLessThanOrEqualTo(TOLERANCE);
                worstDiff = Math.max(worstDiff, diff);
                worstScore = Math.max(worstScore, score);
            }
        } finally {
            vit.close();
        }
        double closest = Double.MAX_VALUE;
        List<float[]> all = List.copyOf(expected.values());
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                closest = Math.min(closest, maxAbsDiff(all.get(i), all.get(j)));
            }
        }
        System.out.printf("against VitCompute: worst max abs diff %.3g, worst score diff %.3g; closest two different"
                + " images differ by %.3g%n", worstDiff, worstScore, closest);
        assertThat(closest).as("distinct images must be told apart by the check").isGreaterThan(100 * TOLERANCE);
        assertThat(expected.values().stream().map(v -> v.length).distinct()).containsExactly(128);
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    /** Dead letters of {@code operator="ml-predict", modality="image"} per reason of {@link #BROKEN}, in its order. */
    private static double[] deadLetters() {
        List<ErrorKind> kinds = List.copyOf(BROKEN.values());
        double[] v = new double[kinds.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = SqlKafka.counter("inflow_dead_letters_total", Map.of("modality", "image", "reason",
                    kinds.get(i).wireName()));
        }
        return v;
    }

    private static String row(int id, byte[] image) {
        ObjectNode row = SqlKafka.JSON.createObjectNode().put("id", id);
        row.put("image", Base64.getEncoder().encodeToString(image)); // Flink's JSON format reads BYTES as base64
        return row.toString();
    }

    /** The first {@value #IMAGES} inline PNGs of the demo sample ({@code sample/image-events.jsonl}, t10k). */
    private static Map<Integer, byte[]> sampleImages() throws Exception {
        Map<Integer, byte[]> images = new LinkedHashMap<>();
        try (InputStream in = resource("sample/image-events.jsonl");
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; images.size() < IMAGES && (line = r.readLine()) != null; ) {
                if (!line.isBlank()) {
                    images.put(images.size(), Base64.getDecoder().decode(SqlKafka.JSON.readTree(line)
                            .get("image_base64").asText()));
                }
            }
        }
        assertThat(images).hasSize(IMAGES);
        return images;
    }

    private static byte[] brokenImage(String name) throws Exception {
        try (InputStream in = resource("sample/broken-images/" + name + ".json")) {
            return Base64.getDecoder().decode(SqlKafka.JSON.readTree(in).get("image_base64").asText());
        }
    }

    private static InputStream resource(String name) {
        InputStream in = MlPredictImageKafkaTest.class.getClassLoader().getResourceAsStream(name);
        assertThat(in).as("resource %s (the jobs module's demo sample)", name).isNotNull();
        return in;
    }

    private static List<Integer> concat(List<Integer> a, java.util.Collection<Integer> b) {
        List<Integer> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
