package io.inflow.gpu.testing;

import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.onnx.OnnxBertWeights;
import io.inflow.gpu.model.onnx.OnnxModel;
import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The MiniLM weights from the langchain4j jar, parsed once per test JVM, and an exporter that writes
 * them as a Hugging Face directory (config.json + model.safetensors).
 *
 * <p>{@code Path dir = MiniLm.exportSafetensors(tempDir);}
 */
public final class MiniLm {
    public static final String ONNX = "all-minilm-l6-v2.onnx";
    public static final String TOKENIZER = "all-minilm-l6-v2-tokenizer.json";
    private static OnnxBertWeights weights;

    private MiniLm() {
    }

    public static synchronized OnnxBertWeights weights() throws IOException {
        if (weights == null) {
            weights = new OnnxBertWeights(OnnxModel.fromClasspath(ONNX), "all-minilm-l6-v2");
        }
        return weights;
    }

    /** Every BERT weight under its Hugging Face name. */
    public static List<WeightArray> hfWeights() throws IOException {
        OnnxBertWeights w = weights();
        BertConfig c = w.inferConfig();
        List<String> names = new ArrayList<>(List.of("embeddings.word_embeddings.weight",
                "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
                "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"));
        for (int i = 0; i < c.layers(); i++) {
            for (String m : List.of("attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense",
                    "output.LayerNorm")) {
                names.add("encoder.layer." + i + "." + m + ".weight");
                names.add("encoder.layer." + i + "." + m + ".bias");
            }
        }
        List<WeightArray> out = new ArrayList<>();
        for (String n : names) {
            out.add(w.find(n).orElseThrow());
        }
        return out;
    }

    /** Writes {@code dir/config.json} and {@code dir/model.safetensors}; returns {@code dir}. */
    public static Path exportSafetensors(Path dir, List<WeightArray> tensors) throws IOException {
        BertConfig c = weights().inferConfig();
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{\n"
                + "  \"architectures\": [\"BertModel\"], \"model_type\": \"bert\", \"hidden_act\": \"gelu\",\n"
                + "  \"vocab_size\": " + c.vocabSize() + ", \"hidden_size\": " + c.hidden() + ",\n"
                + "  \"num_hidden_layers\": " + c.layers() + ", \"num_attention_heads\": " + c.heads() + ",\n"
                + "  \"intermediate_size\": " + c.intermediate() + ", \"max_position_embeddings\": " + c.maxPositions() + ",\n"
                + "  \"type_vocab_size\": " + c.typeVocabSize() + ", \"layer_norm_eps\": 1e-12\n}\n");
        SafetensorsWriter.writeF32(dir.resolve("model.safetensors"), tensors);
        return dir;
    }
}
