package io.inflow.gpu.model.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX {@code ModelProto} that weight loading needs: the graph's initializers by name
 * and its nodes in graph order (ModelProto.graph = 7; GraphProto.node = 1, initializer = 5). Nothing
 * is executed; this is a reader, not a runtime.
 *
 * <pre>{@code
 * OnnxModel m = OnnxModel.fromClasspath("all-minilm-l6-v2.onnx");
 * OnnxTensor words = m.initializer("embeddings.word_embeddings.weight");
 * List<OnnxNode> matmuls = m.nodesOfType("MatMul");
 * }</pre>
 */
public final class OnnxModel {
    private final Map<String, OnnxTensor> initializers;
    private final List<OnnxNode> nodes;

    private OnnxModel(Map<String, OnnxTensor> initializers, List<OnnxNode> nodes) {
        this.initializers = Collections.unmodifiableMap(initializers);
        this.nodes = Collections.unmodifiableList(nodes);
    }

    /** Reads a model from a classpath resource (for example one inside a langchain4j model jar). */
    public static OnnxModel fromClasspath(String resource) throws IOException {
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        if (cl == null) {
            cl = OnnxModel.class.getClassLoader();
        }
        try (InputStream in = cl.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("ONNX resource not found on the classpath: " + resource);
            }
            return parse(in.readAllBytes());
        }
    }

    /** Parses serialized ModelProto bytes; initializer data stays a slice of {@code bytes}. */
    public static OnnxModel parse(byte[] bytes) {
        ProtoReader model = new ProtoReader(bytes, 0, bytes.length);
        ProtoReader graph = null;
        while (model.hasMore()) {
            int tag = model.readTag();
            if (ProtoReader.fieldNumber(tag) == 7 && ProtoReader.wireType(tag) == ProtoReader.LENGTH_DELIMITED) {
                graph = model.readMessage();
            } else {
                model.skip(tag);
            }
        }
        if (graph == null) {
            throw new IllegalArgumentException("not an ONNX model: no graph field in " + bytes.length + " bytes");
        }
        Map<String, OnnxTensor> inits = new LinkedHashMap<>();
        List<OnnxNode> nodes = new ArrayList<>();
        while (graph.hasMore()) {
            int tag = graph.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> nodes.add(OnnxNode.parse(graph.readMessage()));
                case 5 -> {
                    OnnxTensor t = OnnxTensor.parse(graph.readMessage());
                    inits.put(t.name(), t);
                }
                default -> graph.skip(tag);
            }
        }
        return new OnnxModel(inits, nodes);
    }

    public Map<String, OnnxTensor> initializers() {
        return initializers;
    }

    /** The initializer {@code name}; fails naming it when absent. */
    public OnnxTensor initializer(String name) {
        OnnxTensor t = initializers.get(name);
        if (t == null) {
            throw new IllegalArgumentException("ONNX initializer missing: " + name);
        }
        return t;
    }

    public List<OnnxNode> nodes() {
        return nodes;
    }

    public List<OnnxNode> nodesOfType(String opType) {
        return nodes.stream().filter(n -> n.opType().equals(opType)).toList();
    }
}
