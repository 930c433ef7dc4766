package io.inflow.gpu.model.onnx;

import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.WeightSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * BERT weights out of an exported ONNX graph (the langchain4j model jars: all-MiniLM-L6-v2,
 * bge-small-en-v1.5), presented under Hugging Face names. Embeddings, biases and LayerNorm parameters
 * keep their names as initializers; the six matrix weights per layer are unnamed ({@code onnx::MatMul_N},
 * stored {@code [in, out]}) and are mapped by graph order: the MatMul nodes whose right operand is an
 * initializer come as query, key, value, attention output, intermediate, output for layer 0, then layer 1,
 * and so on. When node names carry the module path ({@code /encoder/layer.3/attention/self/key/MatMul}) the
 * order is cross-checked against them. Matrices are served transposed to {@code [out, in]}.
 *
 * <pre>{@code
 * OnnxBertWeights w = new OnnxBertWeights(OnnxModel.fromClasspath("all-minilm-l6-v2.onnx"), "all-minilm-l6-v2");
 * BertConfig config = w.inferConfig();
 * }</pre>
 */
public final class OnnxBertWeights implements WeightSource {
    /** Roles of the per-layer MatMul weights, in graph order, with their Hugging Face module names. */
    static final String[] ROLES = {
        "attention.self.query", "attention.self.key", "attention.self.value",
        "attention.output.dense", "intermediate.dense", "output.dense"};
    private static final Pattern LAYER_WEIGHT = Pattern.compile("encoder\\.layer\\.(\\d+)\\.(.+)\\.weight");
    private static final Pattern NODE_PATH = Pattern.compile("/encoder/layer\\.(\\d+)/(.+)/MatMul");

    private final OnnxModel model;
    private final String name;
    private final Map<String, String> matmulWeights = new HashMap<>();   // HF name -> initializer name
    private final Map<String, OnnxTensor> constants = new HashMap<>();   // Constant output -> value

    public OnnxBertWeights(OnnxModel model, String name) {
        this.model = model;
        this.name = name;
        List<OnnxNode> weighted = new ArrayList<>();
        for (OnnxNode n : model.nodes()) {
            if (n.opType().equals("MatMul") && n.inputs().size() == 2 && model.initializers().containsKey(n.inputs().get(1))) {
                weighted.add(n);
            }
            if (n.opType().equals("Constant") && n.tensorAttributes().containsKey("value") && n.outputs().size() == 1) {
                constants.put(n.outputs().get(0), n.tensorAttributes().get("value"));
            }
        }
        if (weighted.size() % ROLES.length != 0) {
            throw new IllegalArgumentException(name + ": found " + weighted.size()
                    + " weight MatMuls, not a multiple of the " + ROLES.length + " a BERT layer has");
        }
        for (int i = 0; i < weighted.size(); i++) {
            OnnxNode node = weighted.get(i);
            int layer = i / ROLES.length;
            String role = ROLES[i % ROLES.length];
            Matcher m = NODE_PATH.matcher(node.name());
            if (m.matches()) {
                String path = m.group(2).replace('/', '.');
                if (Integer.parseInt(m.group(1)) != layer || !path.equals(role)) {
                    throw new IllegalArgumentException(name + ": MatMul #" + i + " (" + node.name()
                            + ") was expected to be layer " + layer + " " + role + " by graph order");
                }
            }
            matmulWeights.put("encoder.layer." + layer + "." + role + ".weight", node.inputs().get(1));
        }
    }

    @Override
    public Optional<WeightArray> find(String weightName) {
        OnnxTensor direct = model.initializers().get(weightName);
        if (direct != null) {
            return Optional.of(new WeightArray(weightName, direct.shape(), direct.toFloatArray()));
        }
        String init = matmulWeights.get(weightName);
        if (init == null) {
            return Optional.empty();
        }
        OnnxTensor t = model.initializer(init);
        int[] s = t.shape();   // [in, out]
        float[] src = t.toFloatArray();
        float[] dst = new float[src.length];
        for (int i = 0; i < s[0]; i++) {
            for (int o = 0; o < s[1]; o++) {
                dst[o * s[0] + i] = src[i * s[1] + o];
            }
        }
        return Optional.of(new WeightArray(weightName, new int[] {s[1], s[0]}, dst));
    }

    @Override
    public String describe() {
        return "ONNX model " + name;
    }

    /**
     * Reads the encoder's shape off the graph: sizes from the embedding and bias initializers, layers
     * from the MatMul count, the head size from the attention score divisor {@code sqrt(headDim)}, the
     * LayerNorm epsilon from the constant added to the variance, GELU from an {@code Erf} node.
     */
    public BertConfig inferConfig() {
        int[] word = model.initializer("embeddings.word_embeddings.weight").shape();
        int[] pos = model.initializer("embeddings.position_embeddings.weight").shape();
        OnnxTensor types = model.initializers().get("embeddings.token_type_embeddings.weight");
        int layers = matmulWeights.size() / ROLES.length;
        int intermediate = model.initializer("encoder.layer.0.intermediate.dense.bias").shape()[0];
        int hidden = word[1];
        int headDim = inferHeadDim();
        float eps = inferLayerNormEps();
        boolean erf = model.nodes().stream().anyMatch(n -> n.opType().equals("Erf"));
        if (!erf) {
            throw new IllegalArgumentException(name + ": no Erf node; only GELU (erf form) BERT exports are supported");
        }
        return new BertConfig(word[0], hidden, layers, hidden / headDim, intermediate, pos[0],
                types == null ? 0 : types.shape()[0], eps, BertConfig.Activation.GELU);
    }

    private int inferHeadDim() {
        for (OnnxNode n : model.nodes()) {
            if (n.opType().equals("Div") && n.name().contains("attention/self") && n.inputs().size() == 2) {
                float c = scalarConstant(n.inputs().get(1));
                if (c > 0) {
                    return Math.round(c * c);
                }
            }
        }
        throw new IllegalArgumentException(name + ": cannot find the attention scale (Div by sqrt(headDim))");
    }

    private float inferLayerNormEps() {
        for (OnnxNode n : model.nodes()) {
            if (n.opType().equals("Add") && n.name().endsWith("LayerNorm/Add") && n.inputs().size() == 2) {
                float c = scalarConstant(n.inputs().get(1));
                if (c > 0 && c < 1e-3f) {
                    return c;
                }
            }
        }
        return 1e-12f;
    }

    private float scalarConstant(String valueName) {
        OnnxTensor t = constants.getOrDefault(valueName, model.initializers().get(valueName));
        if (t == null || t.elementCount() != 1) {
            return -1;
        }
        return t.toFloatArray()[0];
    }
}
