package io.inflow.gpu.quant;

import static io.inflow.gpu.quant.QuantizedTensors.calibrationJson;
import static io.inflow.gpu.quant.QuantizedTensors.linear;
import static io.inflow.gpu.quant.QuantizedTensors.norm;
import static io.inflow.gpu.quant.QuantizedTensors.parseCalibration;
import static io.inflow.gpu.quant.QuantizedTensors.requant;

import io.inflow.gpu.encoder.vit.VitConfig;
import io.inflow.gpu.model.safetensors.SafetensorsFile;
import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import io.inflow.gpu.model.safetensors.SafetensorsWriter.Typed;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An {@link Int8Vit} as one safetensors file, like {@link Int8BertFile}: int8 weights (I8), int32 biases, dyadic
 * multipliers and shifts, class token and position tables (I32), float scales for reports (F32); in the metadata the
 * format, the model's own {@code config.json} (labels and shape) and what calibration saw. Loading checks every
 * tensor's dtype and shape against that config.
 *
 * <pre>{@code
 * Int8VitFile.save(model, Files.readString(modelDir.resolve("config.json")), Path.of("vit-int8.safetensors"), Map.of());
 * Int8Vit again = Int8VitFile.load(Path.of("vit-int8.safetensors"));
 * }</pre>
 */
public final class Int8VitFile {
    /** The {@code format} metadata value this class writes and reads. */
    public static final String FORMAT = "inflow-int8-vit/1";

    private Int8VitFile() {
    }

    /**
     * Writes {@code model}.
     *
     * @param configJson the float model's {@code config.json}, kept so the file alone describes the model
     * @param extra      metadata stored alongside (source model, calibration data)
     */
    public static void save(Int8Vit model, String configJson, Path path, Map<String, String> extra)
            throws IOException {
        VitConfig c = model.config();
        List<Typed> t = new ArrayList<>();
        t.add(Typed.f32("input_scale", new float[] {model.inputScale()}, 1));
        linear(t, "patch", model.patchEmbedding());
        requant(t, "patch_to_residual", model.patchToResidual());
        t.add(Typed.i32("class_token", model.classToken(), c.hidden()));
        t.add(Typed.i32("patch_positions", model.patchPositions(), c.patches(), c.hidden()));
        if (model.preNorm() != null) {
            norm(t, "pre_norm", model.preNorm());
        }
        for (int i = 0; i < model.layers().size(); i++) {
            Int8VitLayer l = model.layers().get(i);
            String p = "layers." + i + ".";
            norm(t, p + "norm1", l.norm1());
            linear(t, p + "qkv", l.qkv());
            requant(t, p + "qkv_out", l.qkvOut());
            t.add(Typed.i32(p + "score", new int[] {l.score().multiplier(), l.score().shift()}, 2));
            requant(t, p + "ctx_out", l.ctxOut());
            linear(t, p + "attention_out", l.attentionOut());
            requant(t, p + "attention_out_to_residual", l.attentionOutToResidual());
            norm(t, p + "norm2", l.norm2());
            linear(t, p + "fc1", l.fc1());
            requant(t, p + "fc1_to_gelu", l.fc1ToGelu());
            requant(t, p + "gelu_out", l.geluOut());
            linear(t, p + "fc2", l.fc2());
            requant(t, p + "fc2_to_residual", l.fc2ToResidual());
        }
        norm(t, "final_norm", model.finalNorm());
        if (model.hasClassifier()) {
            linear(t, "classifier", model.classifier());
            requant(t, "classifier_to_logits", model.classifierToLogits());
        }
        Map<String, String> meta = new LinkedHashMap<>(extra);
        meta.put("format", FORMAT);
        meta.put("config", configJson);
        meta.put("calibration", calibrationJson(model.calibration()));
        SafetensorsWriter.write(path, t, meta);
    }

    /** Reads a file written by {@link #save}; fails naming the file and what is wrong. */
    public static Int8Vit load(Path path) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            String format = f.metadata().get("format");
            if (!FORMAT.equals(format)) {
                throw new IOException(path + ": metadata format is " + format + ", expected " + FORMAT
                        + " (write it with ./inflow quantize --model vit-fashion-mnist or a ViT directory)");
            }
            String json = f.metadata().get("config");
            if (json == null) {
                throw new IOException(path + ": metadata has no config");
            }
            VitConfig c = VitConfig.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)),
                    path + " metadata config");
            int d = c.hidden();
            int ff = c.intermediate();
            int k = c.channels() * c.patchSize() * c.patchSize();
            Int8Linear patch = QuantizedTensors.linear(f, "patch", d, k);
            List<Int8VitLayer> layers = new ArrayList<>();
            for (int i = 0; i < c.layers(); i++) {
                String p = "layers." + i + ".";
                int[] score = f.requireI32(p + "score", 2);
                layers.add(new Int8VitLayer(norm(f, p + "norm1", d),
                        QuantizedTensors.linear(f, p + "qkv", 3 * d, d),
                        requant(f, p + "qkv_out", 3 * d, Requant.Output.INT8), new Dyadic(score[0], score[1]),
                        requant(f, p + "ctx_out", d, Requant.Output.INT8),
                        QuantizedTensors.linear(f, p + "attention_out", d, d),
                        requant(f, p + "attention_out_to_residual", d, Requant.Output.INT32),
                        norm(f, p + "norm2", d), QuantizedTensors.linear(f, p + "fc1", ff, d),
                        requant(f, p + "fc1_to_gelu", ff, Requant.Output.INT32),
                        requant(f, p + "gelu_out", ff, Requant.Output.INT16),
                        QuantizedTensors.linear(f, p + "fc2", d, ff),
                        requant(f, p + "fc2_to_residual", d, Requant.Output.INT32)));
            }
            boolean classifier = f.entries().containsKey("classifier.weight");
            return new Int8Vit(c, f.requireF32("input_scale", 1)[0], patch,
                    requant(f, "patch_to_residual", d, Requant.Output.INT32), f.requireI32("class_token", d),
                    f.requireI32("patch_positions", c.patches(), d),
                    f.entries().containsKey("pre_norm.to_int8.multiplier") ? norm(f, "pre_norm", d) : null, layers,
                    norm(f, "final_norm", d),
                    classifier ? QuantizedTensors.linear(f, "classifier", c.numLabels(), d) : null,
                    classifier ? requant(f, "classifier_to_logits", c.numLabels(), Requant.Output.INT32) : null,
                    parseCalibration(path, f.metadata().get("calibration")));
        } catch (IllegalArgumentException e) {
            throw new IOException(path + ": " + e.getMessage(), e);
        }
    }
}
