package io.inflow.gpu.tools;

import static io.inflow.gpu.tools.TrainSpamHamHead.ENCODER;
import static io.inflow.gpu.tools.TrainSpamHamHead.LABELS;
import static io.inflow.gpu.tools.TrainSpamHamHead.MAX_TOKENS;
import static io.inflow.gpu.tools.TrainSpamHamHead.NAME;
import static io.inflow.gpu.tools.TrainSpamHamHead.VERSION;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The files {@link TrainSpamHamHead} writes besides the weights: {@code scorer.json}, the held-out sample, and the
 * parts of {@code training.json} (figures, counts, dataset provenance).
 *
 * <p>{@code ObjectNode heldOut = SpamHamReport.evaluate(json, texts, split.heldOut(), probabilities);}
 */
final class SpamHamReport {
    private SpamHamReport() {
    }

    /** One JSON line per sample row: id, label, the trained head's P(spam), text. */
    static void writeSample(Path file, LabelledTexts texts, int[] rows, float[] p) throws IOException {
        ObjectMapper compact = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        for (int r : rows) {
            ObjectNode line = compact.createObjectNode();
            line.put("id", texts.ids().get(r)).put("label", LABELS.get(texts.labels()[r]))
                    .put("p_spam", p[r * LABELS.size() + 1]).put("text", texts.texts().get(r));
            sb.append(compact.writeValueAsString(line)).append('\n');
        }
        Files.createDirectories(file.getParent());
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    /** The scorer.json that {@code ClassifierHead} reads. */
    static void writeScorer(ObjectMapper json, Path file) throws IOException {
        ObjectNode s = json.createObjectNode();
        s.put("name", NAME).put("version", VERSION).put("encoder", ENCODER.modelName()).put("pooling", "mean")
                .put("normalize", true).put("max_tokens", MAX_TOKENS);
        ArrayNode labels = s.putArray("labels");
        LABELS.forEach(labels::add);
        s.put("task", "classification");
        json.writeValue(file.toFile(), s);
    }

    /** Accuracy, log loss and the confusion matrix (rows: true label, columns: predicted) over {@code rows}. */
    static ObjectNode evaluate(ObjectMapper json, LabelledTexts texts, int[] rows, float[] p) {
        int k = LABELS.size();
        long[][] confusion = new long[k][k];
        double logLoss = 0;
        for (int r : rows) {
            int predicted = 0;
            for (int c = 1; c < k; c++) {
                predicted = p[r * k + c] > p[r * k + predicted] ? c : predicted;
            }
            int truth = texts.labels()[r];
            confusion[truth][predicted]++;
            logLoss -= Math.log(Math.max(p[r * k + truth], 1e-30));
        }
        long correct = 0;
        for (int c = 0; c < k; c++) {
            correct += confusion[c][c];
        }
        ObjectNode n = json.createObjectNode();
        n.put("emails", rows.length).put("correct", correct).put("accuracy", round((double) correct / rows.length))
                .put("log_loss", round(logLoss / rows.length));
        ObjectNode cm = n.putObject("confusion");
        cm.put("rows", "true label").put("columns", "predicted label");
        ArrayNode l = cm.putArray("labels");
        LABELS.forEach(l::add);
        ArrayNode m = cm.putArray("matrix");
        for (long[] row : confusion) {
            ArrayNode a = m.addArray();
            for (long v : row) {
                a.add(v);
            }
        }
        return n;
    }

    static void counts(ObjectNode node, LabelledTexts texts, int[] rows) {
        int[] c = texts.counts(rows);
        node.put("emails", rows.length);
        for (int i = 0; i < c.length; i++) {
            node.put(LABELS.get(i), c[i]);
        }
    }

    static ObjectNode datasetNode(ObjectMapper json, JsonNode d) {
        ObjectNode n = json.createObjectNode();
        for (String key : List.of("package", "version", "tarball_sha1", "tarball_sha1_verified", "messages_sha256",
                "data_license", "messages", "per_group", "body_part", "kept", "per_label", "max_chars")) {
            n.set(key, d.get(key));
        }
        n.put("dropped_duplicates", d.get("dropped_duplicates").size());
        n.put("dropped_empty", d.get("dropped_empty").size());
        n.put("text", "subject, newline, body (first text/plain part, else the first text/html part without tags);"
                + " e-mail addresses -> user@example.com; whitespace runs -> one space; cut at " + d.get("max_chars")
                + " characters; exact duplicate texts dropped (see gpu/scripts/spam-ham-texts.mjs)");
        return n;
    }

    static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }
}
