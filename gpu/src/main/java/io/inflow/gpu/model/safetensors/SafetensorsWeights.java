package io.inflow.gpu.model.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.WeightSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A Hugging Face model directory: {@code config.json} plus one or more {@code *.safetensors} files, with BERT
 * names ({@code embeddings.word_embeddings.weight}, {@code encoder.layer.N.attention.self.query.weight}, ...).
 * Names may carry a {@code bert.} prefix (checkpoints saved from a task model) and old LayerNorm names
 * {@code gamma}/{@code beta}; both are accepted.
 *
 * <pre>{@code
 * try (SafetensorsWeights w = SafetensorsWeights.open(Path.of("models/minilm"))) {
 *     BertConfig config = w.bertConfig();
 * }
 * }</pre>
 */
public final class SafetensorsWeights implements WeightSource, AutoCloseable {
    private final Path dir;
    private final List<SafetensorsFile> files;

    private SafetensorsWeights(Path dir, List<SafetensorsFile> files) {
        this.dir = dir;
        this.files = files;
    }

    /** Opens every {@code *.safetensors} file in {@code dir} (sorted by name), or the single file {@code dir}. */
    public static SafetensorsWeights open(Path dir) throws IOException {
        List<Path> paths;
        if (Files.isRegularFile(dir)) {
            return new SafetensorsWeights(dir, new ArrayList<>(List.of(SafetensorsFile.open(dir))));
        }
        try (Stream<Path> s = Files.list(dir)) {
            paths = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        }
        if (paths.isEmpty()) {
            throw new IOException("no *.safetensors file in " + dir);
        }
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            for (Path p : paths) {
                files.add(SafetensorsFile.open(p));
            }
        } catch (IOException e) {
            for (SafetensorsFile f : files) {
                f.close();
            }
            throw e;
        }
        return new SafetensorsWeights(dir, files);
    }

    @Override
    public Optional<WeightArray> find(String name) {
        for (String candidate : candidates(name)) {
            for (SafetensorsFile f : files) {
                if (f.entries().containsKey(candidate)) {
                    try {
                        WeightArray w = f.read(candidate).orElseThrow();
                        return Optional.of(new WeightArray(name, w.shape(), w.data()));
                    } catch (IOException e) {
                        throw new UncheckedIOException("reading " + candidate + " from " + dir, e);
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static List<String> candidates(String name) {
        List<String> c = new ArrayList<>(List.of(name, "bert." + name));
        if (name.endsWith("LayerNorm.weight") || name.endsWith("LayerNorm.bias")) {
            String old = name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta");
            c.add(old);
            c.add("bert." + old);
        }
        return c;
    }

    @Override
    public String describe() {
        return "safetensors model " + dir;
    }

    /** Reads {@code config.json}: hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, ... */
    public BertConfig bertConfig() throws IOException {
        Path p = dir.resolve("config.json");
        if (!Files.exists(p)) {
            throw new IOException("missing " + p + " (a Hugging Face config.json is required next to the weights)");
        }
        JsonNode c = new ObjectMapper().readTree(p.toFile());
        String act = c.path("hidden_act").asText("gelu");
        BertConfig.Activation activation = switch (act) {
            case "gelu" -> BertConfig.Activation.GELU;
            case "quick_gelu" -> BertConfig.Activation.QUICK_GELU;
            default -> throw new IOException(p + ": hidden_act " + act + " is not supported (gelu, quick_gelu)");
        };
        return new BertConfig(required(c, "vocab_size", p), required(c, "hidden_size", p),
                required(c, "num_hidden_layers", p), required(c, "num_attention_heads", p),
                required(c, "intermediate_size", p), c.path("max_position_embeddings").asInt(512),
                c.path("type_vocab_size").asInt(2), (float) c.path("layer_norm_eps").asDouble(1e-12), activation);
    }

    private static int required(JsonNode c, String field, Path p) throws IOException {
        if (!c.has(field)) {
            throw new IOException(p + ": missing " + field);
        }
        return c.get(field).asInt();
    }

    @Override
    public void close() throws IOException {
        for (SafetensorsFile f : files) {
            f.close();
        }
    }
}
