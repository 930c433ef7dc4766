package io.inflow.gpu.encoder.vit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The architecture of a vision transformer, read from a Hugging Face {@code config.json} ({@code ViTConfig},
 * {@code CLIPVisionConfig}, or a {@code CLIPConfig} whose {@code vision_config} is used). A missing or unsupported
 * key fails with the key's name.
 *
 * <p>{@code VitConfig c = VitConfig.read(Path.of("models/vit-fashion-mnist/config.json"));}
 *
 * @param layout         tensor naming, from {@code model_type}
 * @param hidden         {@code hidden_size}
 * @param layers         {@code num_hidden_layers}
 * @param heads          {@code num_attention_heads} (divides hidden)
 * @param intermediate   {@code intermediate_size}, the MLP width
 * @param activation     {@code hidden_act}: gelu (erf) or quick_gelu
 * @param imageSize      {@code image_size} (square; a {@code [h, w]} pair must be square)
 * @param patchSize      {@code patch_size} (divides imageSize)
 * @param channels       {@code num_channels} (default 3)
 * @param layerNormEps   {@code layer_norm_eps} (default 1e-12 for ViT, 1e-5 for CLIP)
 * @param labels         class names from {@code id2label} in index order (empty: no classifier)
 * @param classifier     whether a {@code classifier} head is required ({@code architectures} names
 *                       {@code ...ForImageClassification})
 * @param defaultPooling {@code pooling} ("cls" or "mean") if the config names one, else null
 */
public record VitConfig(VitLayout layout, int hidden, int layers, int heads, int intermediate, Activation activation,
                        int imageSize, int patchSize, int channels, float layerNormEps, List<String> labels,
                        boolean classifier, String defaultPooling) {

    /** The MLP activation. */
    public enum Activation { GELU, QUICK_GELU }

    public VitConfig {
        labels = List.copyOf(labels);
    }

    /** Patches per image side. */
    public int gridSize() {
        return imageSize / patchSize;
    }

    /** Patches per image. */
    public int patches() {
        return gridSize() * gridSize();
    }

    /** Sequence length: the class token plus the patches. */
    public int tokens() {
        return patches() + 1;
    }

    public int numLabels() {
        return labels.size();
    }

    public static VitConfig read(Path configJson) throws IOException {
        if (!Files.exists(configJson)) {
            throw new IOException("missing " + configJson + " (a Hugging Face config.json is required next to the weights)");
        }
        try (InputStream in = Files.newInputStream(configJson)) {
            return read(in, configJson.toString());
        }
    }

    public static VitConfig read(InputStream configJson, String where) throws IOException {
        JsonNode root = new ObjectMapper().readTree(configJson);
        String type = root.path("model_type").asText("");
        JsonNode c = root;
        VitLayout layout;
        switch (type) {
            case "vit" -> layout = VitLayout.HF_VIT;
            case "clip_vision_model" -> layout = VitLayout.CLIP_VISION;
            case "clip" -> {
                layout = VitLayout.CLIP_VISION;
                c = root.path("vision_config");
                if (!c.isObject()) {
                    throw new IOException(where + ": model_type clip needs a vision_config object");
                }
            }
            default -> throw new IOException(where + ": model_type '" + type
                    + "' is not supported (vit, clip_vision_model, clip)");
        }
        boolean clip = layout == VitLayout.CLIP_VISION;
        int hidden = required(c, "hidden_size", where);
        int layers = required(c, "num_hidden_layers", where);
        int heads = required(c, "num_attention_heads", where);
        int intermediate = required(c, "intermediate_size", where);
        String act = c.path("hidden_act").asText(clip ? "quick_gelu" : "gelu");
        Activation activation = switch (act) {
            case "gelu" -> Activation.GELU;
            case "quick_gelu" -> Activation.QUICK_GELU;
            default -> throw new IOException(where + ": hidden_act '" + act + "' is not supported (gelu, quick_gelu)");
        };
        int imageSize = imageSize(c, where);
        int patch = required(c, "patch_size", where);
        int channels = c.has("num_channels") ? c.get("num_channels").asInt() : 3;
        float eps = (float) c.path("layer_norm_eps").asDouble(clip ? 1e-5 : 1e-12);
        if (hidden < 1 || layers < 1 || heads < 1 || intermediate < 1 || patch < 1 || channels < 1 || imageSize < 1) {
            throw new IOException(where + ": hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,"
                    + " patch_size, num_channels and image_size must be positive");
        }
        if (hidden % heads != 0) {
            throw new IOException(where + ": num_attention_heads " + heads + " does not divide hidden_size " + hidden);
        }
        if (imageSize % patch != 0) {
            throw new IOException(where + ": patch_size " + patch + " does not divide image_size " + imageSize);
        }
        List<String> labels = labels(root, where);
        boolean classifier = false;
        for (JsonNode a : root.path("architectures")) {
            classifier |= a.asText().endsWith("ForImageClassification");
        }
        if (classifier && labels.isEmpty()) {
            throw new IOException(where + ": an image-classification model needs id2label or num_labels");
        }
        String pooling = root.has("pooling") ? root.get("pooling").asText() : null;
        return new VitConfig(layout, hidden, layers, heads, intermediate, activation, imageSize, patch, channels, eps,
                labels, classifier, pooling);
    }

    private static int imageSize(JsonNode c, String where) throws IOException {
        JsonNode n = c.get("image_size");
        if (n == null) {
            throw new IOException(where + ": missing image_size");
        }
        if (n.isArray()) {
            if (n.size() != 2 || n.get(0).asInt() != n.get(1).asInt()) {
                throw new IOException(where + ": image_size " + n + " is not supported (square images only)");
            }
            return n.get(0).asInt();
        }
        return n.asInt();
    }

    private static List<String> labels(JsonNode root, String where) throws IOException {
        JsonNode id2label = root.get("id2label");
        int n = root.has("num_labels") ? root.get("num_labels").asInt() : (id2label == null ? 0 : id2label.size());
        if (id2label != null && id2label.size() != n) {
            throw new IOException(where + ": num_labels " + n + " but id2label has " + id2label.size() + " entries");
        }
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            labels.add(id2label == null ? "LABEL_" + i : null);
        }
        if (id2label != null) {
            for (Iterator<Map.Entry<String, JsonNode>> it = id2label.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new IOException(where + ": id2label key '" + e.getKey() + "' is not an integer");
                }
                if (id < 0 || id >= n) {
                    throw new IOException(where + ": id2label key " + id + " outside [0, " + n + ")");
                }
                labels.set(id, e.getValue().asText());
            }
            int missing = labels.indexOf(null);
            if (missing >= 0) {
                throw new IOException(where + ": id2label has no entry for label " + missing + " of " + n);
            }
        }
        return labels;
    }

    private static int required(JsonNode c, String field, String where) throws IOException {
        if (!c.has(field)) {
            throw new IOException(where + ": missing " + field);
        }
        return c.get(field).asInt();
    }
}
