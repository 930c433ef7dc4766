package io.inflow.gpu.encoder;

import java.nio.file.Path;

/**
 * Where encoder weights come from: an ONNX file on the classpath (e.g. inside a langchain4j model jar) or a
 * Hugging Face directory with {@code config.json} and {@code *.safetensors}.
 *
 * <pre>{@code
 * ModelSource.onnxResource("all-minilm-l6-v2.onnx");
 * ModelSource.safetensors(Path.of("/models/bge-small-en-v1.5"));
 * }</pre>
 */
public sealed interface ModelSource {

    /** The default model name: file name without extension, or the directory name. */
    String defaultName();

    record OnnxResource(String resource) implements ModelSource {
        public OnnxResource {
            if (resource == null || resource.isBlank()) {
                throw new IllegalArgumentException("ONNX resource name is empty");
            }
        }

        @Override
        public String defaultName() {
            String n = resource.substring(resource.lastIndexOf('/') + 1);
            return n.endsWith(".onnx") ? n.substring(0, n.length() - 5) : n;
        }
    }

    record SafetensorsDir(Path dir) implements ModelSource {
        public SafetensorsDir {
            if (dir == null) {
                throw new IllegalArgumentException("safetensors directory is null");
            }
        }

        @Override
        public String defaultName() {
            return dir.getFileName().toString();
        }
    }

    static ModelSource onnxResource(String resource) {
        return new OnnxResource(resource);
    }

    static ModelSource safetensors(Path dir) {
        return new SafetensorsDir(dir);
    }
}
