package io.inflow.gpu.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import io.inflow.gpu.pooling.PoolingMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading and checking scorer directories, and the softmax / argmax arithmetic on a hand-sized head. */
class ClassifierHeadTest {
    /** float32 softmax output vs the same formula in double. */
    static final double FLOAT_TOL = 1e-6;
    static final String SCORER = """
            {"name": "tiny", "version": "7", "encoder": "all-minilm-l6-v2", "pooling": "mean", "normalize": true,
             "max_tokens": 64, "labels": %s, "task": "classification"}
            """;

    @TempDir
    Path dir;

    private Path write(String labels, WeightArray... tensors) throws IOException {
        Files.writeString(dir.resolve("scorer.json"), SCORER.formatted(labels));
        SafetensorsWriter.writeF32(dir.resolve("head.safetensors"), List.of(tensors));
        return dir;
    }

    private static WeightArray weight(int rows, int cols, float... v) {
        return new WeightArray("classifier.weight", new int[] {rows, cols}, v);
    }

    private static WeightArray bias(float... v) {
        return new WeightArray("classifier.bias", new int[] {v.length}, v);
    }

    @Test
    void scoresAreTheSoftmaxOfTheLogits() throws IOException {
        // 3 labels over 2 dims: W = [[1, 0], [0, 2], [-1, -1]], b = [0, -1, 0.5]
        ClassifierHead head = ClassifierHead.fromDirectory(write("[\"a\", \"b\", \"c\"]",
                weight(3, 2, 1, 0, 0, 2, -1, -1), bias(0, -1, 0.5f)));
        float[] x = {0.5f, 1.5f, -2, 0};
        float[] p = head.scores(x, 2);
        double[][] logits = {{0.5, 2.0, -1.5}, {-2, -1, 2.5}};
        for (int r = 0; r < 2; r++) {
            double sum = 0;
            for (double l : logits[r]) {
                sum += Math.exp(l);
            }
            for (int c = 0; c < 3; c++) {
                assertThat(p[r * 3 + c]).as("row %d label %d", r, c).isCloseTo((float) (Math.exp(logits[r][c]) / sum),
                        within((float) FLOAT_TOL));
            }
        }
        assertThat(head.argmax(x, 2)).containsExactly(1, 2);
        assertThat(head.labels()).containsExactly("a", "b", "c");
        assertThat(head.name()).isEqualTo("tiny");
        assertThat(head.version()).isEqualTo("7");
        assertThat(head.dimension()).isEqualTo(2);
        assertThat(head.pooling()).isEqualTo(PoolingMode.MEAN);
        assertThat(head.config().maxTokens()).isEqualTo(64);
        assertThat(head.scores(new float[0], 0)).isEmpty();
    }

    @Test
    void largeLogitsDoNotOverflowAndTiesGoToTheFirstLabel() throws IOException {
        ClassifierHead head = ClassifierHead.fromDirectory(write("[\"a\", \"b\"]", weight(2, 1, 1000, 1000),
                bias(0, 0)));
        assertThat(head.scores(new float[] {1}, 1)).containsExactly(0.5f, 0.5f);
        assertThat(head.argmax(new float[] {1}, 1)).containsExactly(0);
    }

    @Test
    void theBundledSpamHamScorerLoads() throws IOException {
        ClassifierHead head = ClassifierHead.fromResource("models/spam-ham-minilm");
        assertThat(head.name()).isEqualTo("spam-ham-minilm");
        assertThat(head.version()).isEqualTo("1");
        assertThat(head.labels()).containsExactly("ham", "spam");
        assertThat(head.dimension()).isEqualTo(384);
        ScorerConfig c = head.config();
        assertThat(c.encoder()).isEqualTo("all-minilm-l6-v2");
        assertThat(c.pooling()).isEqualTo(PoolingMode.MEAN);
        assertThat(c.normalize()).isTrue();
        assertThat(c.maxTokens()).isEqualTo(128);
        assertThat(c.task()).isEqualTo("classification");
    }

    @Test
    void aMissingKeyIsNamed() throws IOException {
        Files.writeString(dir.resolve("scorer.json"), SCORER.formatted("[\"a\", \"b\"]").replace("\"version\": \"7\",", ""));
        SafetensorsWriter.writeF32(dir.resolve("head.safetensors"), List.of(weight(2, 1, 1, 2), bias(0, 0)));
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(dir.resolve("scorer.json") + ": key 'version' is missing");
    }

    @Test
    void illTypedKeysAreNamed() throws IOException {
        SafetensorsWriter.writeF32(dir.resolve("head.safetensors"), List.of(weight(2, 1, 1, 2), bias(0, 0)));
        String good = SCORER.formatted("[\"a\", \"b\"]");
        Path scorer = dir.resolve("scorer.json");
        Files.writeString(scorer, good.replace("\"mean\"", "\"max\""));
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(dir)).hasMessage(scorer
                + ": key 'pooling' is 'max'; use one of [mean, cls, last_token, multi_layer_mean]");
        Files.writeString(scorer, good.replace("\"classification\"", "\"regression\""));
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(dir)).hasMessage(scorer
                + ": key 'task' is 'regression'; only 'classification' is supported");
        Files.writeString(scorer, good.replace("true", "\"yes\""));
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(dir)).hasMessage(scorer
                + ": key 'normalize' must be true or false, found \"yes\"");
        Files.writeString(scorer, SCORER.formatted("[\"a\", \"a\"]"));
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(dir)).hasMessage(scorer
                + ": key 'labels' has a duplicate name: [a, a]");
        Files.writeString(scorer, SCORER.formatted("[\"a\"]"));
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(dir)).hasMessage(scorer
                + ": key 'labels' must be an array of at least 2 names, found [\"a\"]");
        Files.writeString(scorer, "{\"name\": ");
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(dir)).hasMessageStartingWith(scorer + ": not valid JSON");
    }

    @Test
    void aMissingTensorIsNamed() throws IOException {
        Path d = write("[\"a\", \"b\"]", weight(2, 3, 1, 2, 3, 4, 5, 6));
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(d.resolve("head.safetensors") + ": tensor 'classifier.bias' (shape [2]) is missing");
    }

    @Test
    void aWrongShapeIsNamed() throws IOException {
        Path d = write("[\"a\", \"b\"]", weight(2, 3, 1, 2, 3, 4, 5, 6), bias(0, 0, 0));
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(d.resolve("head.safetensors") + ": tensor 'classifier.bias' has shape [3]; expected [2]"
                        + " (the labels of scorer.json)");
        SafetensorsWriter.writeF32(d.resolve("head.safetensors"), List.of(
                new WeightArray("classifier.weight", new int[] {6}, new float[6]), bias(0, 0)));
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(d))
                .hasMessage(d.resolve("head.safetensors") + ": tensor 'classifier.weight' has shape [6]; expected"
                        + " [2, dim]: one row per label of scorer.json [a, b]");
    }

    @Test
    void labelsThatDoNotMatchTheWeightRowsFail() throws IOException {
        Path d = write("[\"ham\", \"spam\", \"phishing\"]", weight(2, 2, 1, 2, 3, 4), bias(0, 0));
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(d.resolve("head.safetensors") + ": tensor 'classifier.weight' has shape [2, 2]; expected"
                        + " [3, dim]: one row per label of scorer.json [ham, spam, phishing]");
    }

    @Test
    void missingFilesAndBadInputsAreNamed() throws IOException {
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(dir)).isInstanceOf(IOException.class)
                .hasMessage(dir.resolve("scorer.json") + " is missing (a scorer directory holds scorer.json and"
                        + " head.safetensors)");
        assertThatThrownBy(() -> ClassifierHead.fromResource("models/no-such-scorer"))
                .isInstanceOf(IOException.class).hasMessage("classpath:models/no-such-scorer/scorer.json is missing");
        Files.writeString(dir.resolve("head.safetensors"), "not a safetensors file");
        Files.writeString(dir.resolve("scorer.json"), SCORER.formatted("[\"a\", \"b\"]"));
        assertThatThrownBy(() -> ClassifierHead.fromDirectory(dir)).isInstanceOf(IOException.class)
                .hasMessageStartingWith(dir.resolve("head.safetensors") + ": ");
        ClassifierHead head = ClassifierHead.fromDirectory(write("[\"a\", \"b\"]", weight(2, 2, 1, 2, 3, 4),
                bias(0, 0)));
        assertThatThrownBy(() -> head.scores(new float[3], 2))
                .hasMessage("tiny: expected 2 x 2 = 4 embedding values, got 3");
    }
}
