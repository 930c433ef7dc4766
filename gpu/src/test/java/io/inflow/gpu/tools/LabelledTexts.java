package io.inflow.gpu.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Labelled texts read from a JSON-lines file ({@code {"id": ..., "label": ..., "text": ...}} per line) and a seeded,
 * stratified split of them.
 *
 * <pre>{@code
 * LabelledTexts data = LabelledTexts.read(Path.of("emails.jsonl"), List.of("ham", "spam"));
 * LabelledTexts.Split split = data.split(0.2, 20251202L);
 * }</pre>
 */
record LabelledTexts(List<String> ids, List<String> texts, int[] labels, List<String> labelNames) {

    /**
     * A split: row indices of each side, each in the order the seeded shuffle put them (class by class).
     *
     * @param trainFold the cross-validation fold (0..folds-1) of each training row, in {@code train} order
     */
    record Split(int[] train, int[] heldOut, int[] trainFold) {
    }

    static LabelledTexts read(Path jsonl, List<String> labelNames) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> ids = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(jsonl, StandardCharsets.UTF_8)) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode e = json.readTree(line);
                int label = labelNames.indexOf(e.get("label").asText());
                if (label < 0) {
                    throw new IOException(jsonl + ": unknown label in " + line.substring(0, Math.min(80, line.length())));
                }
                ids.add(e.get("id").asText());
                texts.add(e.get("text").asText());
                labels.add(label);
            }
        }
        return new LabelledTexts(ids, texts, labels.stream().mapToInt(Integer::intValue).toArray(), labelNames);
    }

    int size() {
        return ids.size();
    }

    /** Rows per class among {@code rows}. */
    int[] counts(int[] rows) {
        int[] c = new int[labelNames.size()];
        for (int r : rows) {
            c[labels[r]]++;
        }
        return c;
    }

    /**
     * Class by class (in label order), the rows in file order are shuffled with one {@code new Random(seed)}; the first
     * {@code round(heldOutFraction * count)} of each class are held out, the rest are trained on and dealt round-robin
     * into {@code folds} cross-validation folds.
     */
    Split split(double heldOutFraction, long seed, int folds) {
        Random random = new Random(seed);
        List<Integer> train = new ArrayList<>();
        List<Integer> heldOut = new ArrayList<>();
        List<Integer> fold = new ArrayList<>();
        for (int c = 0; c < labelNames.size(); c++) {
            List<Integer> rows = new ArrayList<>();
            for (int i = 0; i < size(); i++) {
                if (labels[i] == c) {
                    rows.add(i);
                }
            }
            Collections.shuffle(rows, random);
            int held = (int) Math.round(heldOutFraction * rows.size());
            heldOut.addAll(rows.subList(0, held));
            for (int i = held; i < rows.size(); i++) {
                train.add(rows.get(i));
                fold.add((i - held) % folds);
            }
        }
        return new Split(toArray(train), toArray(heldOut), toArray(fold));
    }

    private static int[] toArray(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }
}
