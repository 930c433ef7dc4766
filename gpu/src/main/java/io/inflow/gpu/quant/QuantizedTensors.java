package io.inflow.gpu.quant;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.inflow.gpu.model.safetensors.SafetensorsFile;
import io.inflow.gpu.model.safetensors.SafetensorsWriter.Typed;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How the integer path's parameters are stored as safetensors tensors, shared by {@link Int8BertFile} and
 * {@link Int8VitFile}: a linear is {@code <p>.weight} (I8 {@code [out, in]}), {@code <p>.bias} (I32), {@code
 * <p>.weight_scale} and {@code <p>.input_scale} (F32, for reports); an INT4 linear {@code <p>.weight4} (packed
 * nibbles) and {@code <p>.group_multiplier}; a requantisation {@code <p>.multiplier} and {@code <p>.shift} (I32 per
 * channel); a LayerNorm its two requantisations and biases; an embedding its I8 table. Readers check dtype and shape.
 *
 * <p>{@code List<Typed> t = new ArrayList<>(); QuantizedTensors.linear(t, "layers.0.qkv", l.qkv());}
 */
final class QuantizedTensors {
    private static final ObjectMapper JSON = new ObjectMapper();

    private QuantizedTensors() {
    }

    static void embedding(List<Typed> t, String p, Int8Embedding e) {
        t.add(Typed.i8(p + ".table", e.table(), e.rows(), e.dim()));
        requant(t, p + ".to_residual", e.toResidual());
        t.add(Typed.f32(p + ".row_scale", e.rowScale(), e.rows()));
    }

    static Int8Embedding embedding(SafetensorsFile f, String p, int rows, int dim) throws IOException {
        return new Int8Embedding(rows, dim, f.requireI8(p + ".table", rows, dim),
                requant(f, p + ".to_residual", rows, Requant.Output.INT32), f.requireF32(p + ".row_scale", rows));
    }

    static void linear(List<Typed> t, String p, Int8Linear l) {
        t.add(Typed.i8(p + ".weight", l.weights(), l.out(), l.in()));
        t.add(Typed.i32(p + ".bias", l.bias(), l.out()));
        t.add(Typed.f32(p + ".weight_scale", l.weightScale(), l.out()));
        t.add(Typed.f32(p + ".input_scale", new float[] {l.inputScale()}, 1));
    }

    static Int8Linear linear(SafetensorsFile f, String p, int out, int in) throws IOException {
        return new Int8Linear(out, in, f.requireI8(p + ".weight", out, in), f.requireI32(p + ".bias", out),
                f.requireF32(p + ".weight_scale", out), f.requireF32(p + ".input_scale", 1)[0]);
    }

    static void linear4(List<Typed> t, String p, Int4Linear l) {
        t.add(Typed.i8(p + ".weight4", l.packed(), l.packed().length));
        t.add(Typed.i8(p + ".group_multiplier", l.multipliers(), l.out(), Int4Linear.groups(l.in())));
        t.add(Typed.i32(p + ".bias", l.bias(), l.out()));
        t.add(Typed.f32(p + ".weight_scale", l.channelScale(), l.out()));
        t.add(Typed.f32(p + ".input_scale", new float[] {l.inputScale()}, 1));
    }

    static Int4Linear linear4(SafetensorsFile f, String p, int out, int in) throws IOException {
        int packed = (int) (((long) out * in + 1) / 2);
        return new Int4Linear(out, in, f.requireI8(p + ".weight4", packed),
                f.requireI8(p + ".group_multiplier", out, Int4Linear.groups(in)), f.requireI32(p + ".bias", out),
                f.requireF32(p + ".weight_scale", out), f.requireF32(p + ".input_scale", 1)[0]);
    }

    static void requant(List<Typed> t, String p, Requant r) {
        t.add(Typed.i32(p + ".multiplier", r.multiplier(), r.channels()));
        t.add(Typed.i32(p + ".shift", r.shift(), r.channels()));
    }

    static Requant requant(SafetensorsFile f, String p, int channels, Requant.Output out) throws IOException {
        return new Requant(f.requireI32(p + ".multiplier", channels), f.requireI32(p + ".shift", channels), out);
    }

    static void norm(List<Typed> t, String p, IntLayerNorm n) {
        requant(t, p + ".to_int8", n.toInt8());
        t.add(Typed.i32(p + ".int8_bias", n.int8Bias(), n.dim()));
        requant(t, p + ".to_residual", n.toResidual());
        t.add(Typed.i32(p + ".residual_bias", n.residualBias(), n.dim()));
        t.add(Typed.f32(p + ".int8_scale", n.int8Scale(), n.dim()));
    }

    static IntLayerNorm norm(SafetensorsFile f, String p, int d) throws IOException {
        return new IntLayerNorm(d, requant(f, p + ".to_int8", d, Requant.Output.INT8), f.requireI32(p + ".int8_bias", d),
                requant(f, p + ".to_residual", d, Requant.Output.INT32), f.requireI32(p + ".residual_bias", d),
                f.requireF32(p + ".int8_scale", d));
    }

    static String calibrationJson(List<CalibrationPoint> points) {
        ArrayNode a = JSON.createArrayNode();
        for (CalibrationPoint p : points) {
            a.addObject().put("name", p.name()).put("max", p.max()).put("scale", p.scale())
                    .put("clipped", p.clippedFraction()).put("values", p.values());
        }
        return a.toString();
    }

    static List<CalibrationPoint> parseCalibration(Path path, String json) throws JsonProcessingException {
        List<CalibrationPoint> out = new ArrayList<>();
        if (json == null) {
            return out;
        }
        for (JsonNode n : JSON.readTree(json)) {
            out.add(new CalibrationPoint(n.get("name").asText(), n.get("max").asDouble(), n.get("scale").asDouble(),
                    n.get("clipped").asDouble(), n.get("values").asLong()));
        }
        return out;
    }
}
