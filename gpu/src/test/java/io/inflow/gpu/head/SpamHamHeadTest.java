package io.inflow.gpu.head;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.safetensors.SafetensorsFile;
import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import io.inflow.gpu.testing.SentenceEmbedder;
import io.inflow.gpu.text.TextModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled spam/ham scorer ({@code models/spam-ham-minilm}) on 300 of its held-out emails
 * ({@code spam-ham/held-out-sample.jsonl}, written by the training run with each email's P(spam)): embedded here with
 * MiniLM as {@code scorer.json} says, the head must reproduce the run's probabilities and its accuracy on that sample
 * ({@code training.json}, {@code results.held_out_sample}).
 */
class SpamHamHeadTest {
    static final String SCORER = "models/spam-ham-minilm";
    /**
     * Per email, P(spam) here vs the training run's. Same encoder, backend and thread count; only the batches differ
     * (the run embedded all 5,896 emails in batches of 32 by token count). On the machine that trained the head every
     * probability comes out identical (the test passes at 0); another CPU's vector width changes the order of float
     * sums, which moves a row's embedding by rounding only (cosine >= 0.999999 across batchings,
     * {@code TextEncoderTest}), far less than 1e-3 in probability.
     */
    static final double P_TOLERANCE = 1e-3;
    /**
     * Only an email whose recorded P(spam) lies within {@link #P_TOLERANCE} of 0.5 can change label when every
     * probability stays within that distance; the sample has at most one such email (asserted), so the accuracy may
     * fall short of the recorded one by at most one email of 300.
     */
    static final double ACCURACY_TOLERANCE = 1.0 / 300;

    record Email(String id, String label, float pSpam, String text) {
    }

    static ClassifierHead head;
    static List<Email> sample;
    static JsonNode training;
    static JsonNode recorded;
    static float[] embeddings;

    @TempDir
    Path tmp;

    @BeforeAll
    static void embedTheSample() throws IOException {
        head = ClassifierHead.fromResource(SCORER);
        ObjectMapper json = new ObjectMapper();
        training = json.readTree(resource(SCORER + "/training.json"));
        recorded = training.at("/results/held_out_sample");
        sample = new ArrayList<>();
        for (String line : new String(resource("spam-ham/held-out-sample.jsonl"), StandardCharsets.UTF_8).split("\n")) {
            JsonNode e = json.readTree(line);
            sample.add(new Email(e.get("id").asText(), e.get("label").asText(), e.get("p_spam").floatValue(),
                    e.get("text").asText()));
        }
        ScorerConfig c = head.config();
        try (SentenceEmbedder e = SentenceEmbedder.create(TextModel.byName(c.encoder()), c.pooling(), c.normalize(),
                c.maxTokens(), 2)) {
            embeddings = e.embed(sample.stream().map(Email::text).toList());
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = SpamHamHeadTest.class.getClassLoader().getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static double accuracy(ClassifierHead h) {
        int[] predicted = h.argmax(embeddings, sample.size());
        int correct = 0;
        for (int i = 0; i < predicted.length; i++) {
            correct += h.labels().get(predicted[i]).equals(sample.get(i).label()) ? 1 : 0;
        }
        return (double) correct / predicted.length;
    }

    @Test
    void reproducesTheTrainingRunOnTheHeldOutSample() {
        int n = sample.size();
        assertThat(n).isEqualTo(recorded.get("emails").asInt()).isEqualTo(300);
        float[] p = head.scores(embeddings, n);
        int nearBoundary = 0;
        for (int i = 0; i < n; i++) {
            assertThat((double) p[2 * i + 1]).as(sample.get(i).id())
                    .isCloseTo(sample.get(i).pSpam(), org.assertj.core.data.Offset.offset(P_TOLERANCE));
            nearBoundary += Math.abs(sample.get(i).pSpam() - 0.5) <= P_TOLERANCE ? 1 : 0;
        }
        assertThat(nearBoundary).as("emails within P_TOLERANCE of 0.5 (ACCURACY_TOLERANCE assumes <= 1)")
                .isLessThanOrEqualTo(1);

        double expected = recorded.get("accuracy").asDouble();
        assertThat(accuracy(head)).isGreaterThanOrEqualTo(expected - ACCURACY_TOLERANCE);
        long ham = sample.stream().filter(e -> e.label().equals("ham")).count();
        double majority = Math.max(ham, n - ham) / (double) n;
        assertThat(expected).as("far above always answering the majority class (%.3f)", majority)
                .isGreaterThan(majority + 0.2);
    }

    @Test
    void theSampleIsHeldOut() throws IOException {
        Set<String> heldOut = new HashSet<>(List.of(new String(resource(SCORER + "/held-out-ids.txt"),
                StandardCharsets.UTF_8).split("\n")));
        assertThat(heldOut).hasSize(training.at("/split/held_out/emails").asInt()).hasSizeGreaterThan(1000);
        assertThat(sample).extracting(Email::id).allMatch(heldOut::contains).doesNotHaveDuplicates();
    }

    /** Negative control: the same weights with the label rows swapped must do worse than a coin. */
    @Test
    void swappingTheRowsBreaksIt() throws IOException {
        Path weights = tmp.resolve("original.safetensors");
        Files.write(weights, resource(SCORER + "/head.safetensors"));
        List<WeightArray> swapped = new ArrayList<>();
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            for (String name : List.of(ClassifierHead.WEIGHT, ClassifierHead.BIAS)) {
                WeightArray w = f.read(name).orElseThrow();
                float[] v = w.data();
                int half = v.length / 2;
                float[] s = new float[v.length];
                System.arraycopy(v, half, s, 0, half);
                System.arraycopy(v, 0, s, half, half);
                swapped.add(new WeightArray(name, w.shape(), s));
            }
        }
        Path dir = Files.createDirectories(tmp.resolve("swapped"));
        SafetensorsWriter.writeF32(dir.resolve(ClassifierHead.WEIGHTS_FILE), swapped);
        Files.write(dir.resolve(ClassifierHead.SCORER_FILE), resource(SCORER + "/scorer.json"));
        assertThat(accuracy(ClassifierHead.fromDirectory(dir))).isLessThan(0.5);
    }
}
