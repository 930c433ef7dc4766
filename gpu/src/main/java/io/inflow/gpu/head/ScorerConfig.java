package io.inflow.gpu.head;

import com.fasterxml.jackson.databind.JsonNode;
import io.inflow.gpu.pooling.PoolingMode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;

/**
 * A scorer's {@code scorer.json}: which model it is and what its head expects of the embeddings it is given.
 *
 * <pre>{@code
 * {"name": "spam-ham-minilm", "version": "1", "task": "classification", "encoder": "all-minilm-l6-v2",
 *  "pooling": "mean", "normalize": true, "max_tokens": 128, "labels": ["ham", "spam"]}
 * }</pre>
 *
 * <p>Every key is required; a missing or ill-typed one fails naming the file and the key. Other keys are ignored.
 *
 * @param name model name carried by enriched events
 * @param version model version carried by enriched events
 * @param task {@code classification} (the only task {@link ClassifierHead} runs)
 * @param encoder the text encoder the head was trained on ({@code TextModel} name)
 * @param pooling how that encoder's token states were pooled
 * @param normalize whether the pooled embedding was L2-normalised
 * @param maxTokens the token limit (special tokens included) texts were truncated to
 * @param labels class names, one per weight row, in row order
 */
public record ScorerConfig(String name, String version, String task, String encoder, PoolingMode pooling,
        boolean normalize, int maxTokens, List<String> labels) {

    /** The task {@link ClassifierHead} supports. */
    public static final String CLASSIFICATION = "classification";

    public ScorerConfig {
        labels = List.copyOf(labels);
    }

    /**
     * Reads and checks the parsed {@code scorer.json}.
     *
     * @param file what to call the file in messages (its path or classpath resource)
     */
    static ScorerConfig parse(JsonNode root, String file) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(file + ": expected a JSON object");
        }
        String task = text(root, "task", file);
        if (!task.equals(CLASSIFICATION)) {
            throw new IllegalArgumentException(file + ": key 'task' is '" + task + "'; only '" + CLASSIFICATION
                    + "' is supported");
        }
        String pooling = text(root, "pooling", file);
        PoolingMode mode;
        try {
            mode = PoolingMode.valueOf(pooling.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": key 'pooling' is '" + pooling + "'; use one of "
                    + List.of(PoolingMode.values()).toString().toLowerCase(Locale.ROOT), e);
        }
        JsonNode normalize = require(root, "normalize", file);
        if (!normalize.isBoolean()) {
            throw new IllegalArgumentException(file + ": key 'normalize' must be true or false, found " + normalize);
        }
        JsonNode maxTokens = require(root, "max_tokens", file);
        if (!maxTokens.isInt() || maxTokens.asInt() < 2) {
            throw new IllegalArgumentException(file + ": key 'max_tokens' must be an integer >= 2, found " + maxTokens);
        }
        return new ScorerConfig(text(root, "name", file), text(root, "version", file), task,
                text(root, "encoder", file), mode, normalize.asBoolean(), maxTokens.asInt(), labels(root, file));
    }

    private static List<String> labels(JsonNode root, String file) {
        JsonNode node = require(root, "labels", file);
        if (!node.isArray() || node.size() < 2) {
            throw new IllegalArgumentException(file + ": key 'labels' must be an array of at least 2 names, found "
                    + node);
        }
        List<String> labels = new ArrayList<>();
        for (JsonNode l : node) {
            if (!l.isTextual() || l.asText().isBlank()) {
                throw new IllegalArgumentException(file + ": key 'labels' must hold non-empty strings, found " + l);
            }
            labels.add(l.asText());
        }
        if (new HashSet<>(labels).size() != labels.size()) {
            throw new IllegalArgumentException(file + ": key 'labels' has a duplicate name: " + labels);
        }
        return labels;
    }

    private static JsonNode require(JsonNode root, String key, String file) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException(file + ": key '" + key + "' is missing");
        }
        return v;
    }

    private static String text(JsonNode root, String key, String file) {
        JsonNode v = require(root, key, file);
        if (!v.isTextual() || v.asText().isBlank()) {
            throw new IllegalArgumentException(file + ": key '" + key + "' must be a non-empty string, found " + v);
        }
        return v.asText();
    }
}
