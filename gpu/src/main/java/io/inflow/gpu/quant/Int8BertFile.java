package io.inflow.gpu.quant;

import static io.inflow.gpu.quant.QuantizedTensors.calibrationJson;
import static io.inflow.gpu.quant.QuantizedTensors.embedding;
import static io.inflow.gpu.quant.QuantizedTensors.linear;
import static io.inflow.gpu.quant.QuantizedTensors.linear4;
import static io.inflow.gpu.quant.QuantizedTensors.norm;
import static io.inflow.gpu.quant.QuantizedTensors.parseCalibration;
import static io.inflow.gpu.quant.QuantizedTensors.requant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.safetensors.SafetensorsFile;
import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import io.inflow.gpu.model.safetensors.SafetensorsWriter.Typed;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An {@link Int8Bert} as one safetensors file: int8 weights and embeddings (I8), int32 biases and dyadic multipliers
 * and shifts (I32), float scales kept for reports (F32), and in {@code __metadata__} the format, the model's shape,
 * where it came from and what calibration saw. Loading checks every tensor's dtype and shape against the shape in
 * the metadata, so a truncated or foreign file fails naming the tensor.
 *
 * <pre>{@code
 * Int8BertFile.save(model, Path.of("minilm-int8.safetensors"), Map.of("source", "all-minilm-l6-v2"));
 * Int8Bert again = Int8BertFile.load(Path.of("minilm-int8.safetensors"));
 * }</pre>
 */
public final class Int8BertFile {
    /** The {@code format} metadata value this class writes and reads. */
    public static final String FORMAT = "inflow-int8-bert/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Int8BertFile() {
    }

    /** Writes {@code model}; {@code extra} metadata (source model, calibration data) is stored alongside. */
    public static void save(Int8Bert model, Path path, Map<String, String> extra) throws IOException {
        List<Typed> t = new ArrayList<>();
        embedding(t, "embeddings.word", model.word());
        embedding(t, "embeddings.position", model.position());
        if (model.type() != null) {
            embedding(t, "embeddings.type", model.type());
        }
        norm(t, "embeddings.norm", model.embeddingNorm());
        StringBuilder bits = new StringBuilder();
        StringBuilder change = new StringBuilder();
        for (int i = 0; i < model.layers().size(); i++) {
            Int8BertLayer l = model.layers().get(i);
            Int4BertLayer w4 = model.int4().get(i);
            String p = "layers." + i + ".";
            bits.append(i == 0 ? "" : ",").append(model.weightBits(i));
            change.append(i == 0 ? "" : ",").append(model.layerChange()[i]);
            if (w4 == null) {
                linear(t, p + "qkv", l.qkv());
                linear(t, p + "attention_out", l.attentionOut());
                linear(t, p + "intermediate", l.intermediate());
                linear(t, p + "output", l.output());
            } else {
                linear4(t, p + "qkv", w4.qkv());
                linear4(t, p + "attention_out", w4.attentionOut());
                linear4(t, p + "intermediate", w4.intermediate());
                linear4(t, p + "output", w4.output());
            }
            requant(t, p + "qkv_out", l.qkvOut());
            t.add(Typed.i32(p + "score", new int[] {l.score().multiplier(), l.score().shift()}, 2));
            requant(t, p + "ctx_out", l.ctxOut());
            requant(t, p + "attention_out_to_residual", l.attentionOutToResidual());
            norm(t, p + "attention_norm", l.attentionNorm());
            requant(t, p + "intermediate_to_gelu", l.intermediateToGelu());
            requant(t, p + "gelu_out", l.geluOut());
            requant(t, p + "output_to_residual", l.outputToResidual());
            norm(t, p + "output_norm", l.outputNorm());
        }
        Map<String, String> meta = new LinkedHashMap<>(extra);
        meta.put("format", FORMAT);
        meta.put("config", configJson(model.config()));
        meta.put("calibration", calibrationJson(model.calibration()));
        meta.put("layer_bits", bits.toString());
        meta.put("layer_change", change.toString());
        SafetensorsWriter.write(path, t, meta);
    }

    /** Reads a file written by {@link #save}; fails naming the file and what is wrong. */
    public static Int8Bert load(Path path) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            String format = f.metadata().get("format");
            if (!FORMAT.equals(format)) {
                throw new IOException(path + ": metadata format is " + format + ", expected " + FORMAT
                        + " (write it with the quantize command)");
            }
            BertConfig c = parseConfig(path, f.metadata().get("config"));
            double[] bitsRead = numbers(path, "layer_bits", f.metadata().get("layer_bits"), c.layers());
            double[] change = numbers(path, "layer_change", f.metadata().get("layer_change"), c.layers());
            int[] bits = new int[c.layers()];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = (int) bitsRead[i];
                if (bits[i] != 4 && bits[i] != 8) {
                    throw new IOException(path + ": metadata layer_bits lists " + bitsRead[i] + " for layer " + i
                            + "; only 4 and 8 exist (quantize the model again)");
                }
            }
            int d = c.hidden();
            int ff = c.intermediate();
            Int8Embedding word = embedding(f, "embeddings.word", c.vocabSize(), d);
            Int8Embedding pos = embedding(f, "embeddings.position", c.maxPositions(), d);
            Int8Embedding type = f.entries().containsKey("embeddings.type.table")
                    ? embedding(f, "embeddings.type", c.typeVocabSize(), d) : null;
            IntLayerNorm embNorm = norm(f, "embeddings.norm", d);
            List<Int8BertLayer> layers = new ArrayList<>();
            List<Int4BertLayer> int4 = new ArrayList<>();
            for (int i = 0; i < c.layers(); i++) {
                String p = "layers." + i + ".";
                int[] score = f.requireI32(p + "score", 2);
                Int4BertLayer w4 = bits[i] == 4 ? new Int4BertLayer(linear4(f, p + "qkv", 3 * d, d),
                        linear4(f, p + "attention_out", d, d), linear4(f, p + "intermediate", ff, d),
                        linear4(f, p + "output", d, ff)) : null;
                int4.add(w4);
                layers.add(new Int8BertLayer(
                        w4 == null ? linear(f, p + "qkv", 3 * d, d) : w4.qkv().toInt8(),
                        requant(f, p + "qkv_out", 3 * d, Requant.Output.INT8),
                        new Dyadic(score[0], score[1]), requant(f, p + "ctx_out", d, Requant.Output.INT8),
                        w4 == null ? linear(f, p + "attention_out", d, d) : w4.attentionOut().toInt8(),
                        requant(f, p + "attention_out_to_residual", d, Requant.Output.INT32),
                        norm(f, p + "attention_norm", d),
                        w4 == null ? linear(f, p + "intermediate", ff, d) : w4.intermediate().toInt8(),
                        requant(f, p + "intermediate_to_gelu", ff, Requant.Output.INT32),
                        requant(f, p + "gelu_out", ff, Requant.Output.INT16),
                        w4 == null ? linear(f, p + "output", d, ff) : w4.output().toInt8(),
                        requant(f, p + "output_to_residual", d, Requant.Output.INT32),
                        norm(f, p + "output_norm", d)));
            }
            return new Int8Bert(c, word, pos, type, embNorm, layers, int4,
                    parseCalibration(path, f.metadata().get("calibration")), change);
        } catch (IllegalArgumentException e) {
            throw new IOException(path + ": " + e.getMessage(), e);
        }
    }

    /** The metadata of a quantized model file, without reading its tensors. */
    public static Map<String, String> metadata(Path path) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            return f.metadata();
        }
    }

    /** {@code n} comma-separated numbers of metadata {@code key}; a file without them is refused by name. */
    private static double[] numbers(Path path, String key, String csv, int n) throws IOException {
        if (csv == null) {
            throw new IOException(path + ": metadata has no " + key + " (quantize the model again with this"
                    + " version)");
        }
        String[] parts = csv.split(",");
        if (parts.length != n) {
            throw new IOException(path + ": metadata " + key + " lists " + parts.length + " layers, the config has "
                    + n);
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            try {
                out[i] = Double.parseDouble(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IOException(path + ": metadata " + key + " has '" + parts[i] + "', not a number");
            }
        }
        return out;
    }

    static String configJson(BertConfig c) {
        ObjectNode o = JSON.createObjectNode();
        o.put("vocab_size", c.vocabSize()).put("hidden_size", c.hidden()).put("num_hidden_layers", c.layers())
                .put("num_attention_heads", c.heads()).put("intermediate_size", c.intermediate())
                .put("max_position_embeddings", c.maxPositions()).put("type_vocab_size", c.typeVocabSize())
                .put("layer_norm_eps", c.layerNormEps()).put("hidden_act", c.activation().name());
        return o.toString();
    }

    private static BertConfig parseConfig(Path path, String json) throws IOException {
        if (json == null) {
            throw new IOException(path + ": metadata has no config");
        }
        JsonNode o = JSON.readTree(json);
        return new BertConfig(o.get("vocab_size").asInt(), o.get("hidden_size").asInt(),
                o.get("num_hidden_layers").asInt(), o.get("num_attention_heads").asInt(),
                o.get("intermediate_size").asInt(), o.get("max_position_embeddings").asInt(),
                o.get("type_vocab_size").asInt(), (float) o.get("layer_norm_eps").asDouble(),
                BertConfig.Activation.valueOf(o.get("hidden_act").asText()));
    }
}
