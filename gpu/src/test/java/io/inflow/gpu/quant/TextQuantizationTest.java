package io.inflow.gpu.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.safetensors.SafetensorsWeights;
import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import io.inflow.gpu.backend.cpu.ReferenceCpuBackend;
import io.inflow.gpu.testing.RandomBert;
import io.inflow.gpu.testing.TokenBatch;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quantize command's core on the bundled MiniLM, and its refusals of bad calibration input. */
class TextQuantizationTest {

    @Test
    void quantizesMiniLmAndReportsAccuracySizeAndCalibration(@TempDir Path tmp) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        TextQuantization.Result r = TextQuantization.run(new TextQuantization.Options("all-minilm-l6-v2", null, 24,
                24, 64, 0.8, tmp.resolve("out"), 2), new PrintStream(log, true, StandardCharsets.UTF_8));
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("calibrated layer 6/6").contains("held-out accuracy");
        assertThat(r.heldOut()).isEqualTo(24);
        // 24 calibration texts of at most 64 tokens: a small calibration, so a lower bar than the 0.99 of the
        // full-size test (Int8MiniLmAccuracyTest); measured 0.99 here
        assertThat(r.meanCosine()).isBetween(0.98, 0.9999);
        assertThat((double) r.floatBytes() / r.quantizedBytes()).as("int8 against float32").isBetween(3.5, 4.1);
        JsonNode report = new ObjectMapper().readTree(r.report().toFile());
        assertThat(report.path("layers")).hasSize(7);
        assertThat(report.path("layers").get(1).path("weight_bits").asInt()).isEqualTo(8);
        assertThat(report.path("layers").get(1).path("hidden_state_relative_error").asDouble()).isBetween(0.0, 0.2);
        assertThat(report.path("calibration").path("points").size()).isEqualTo(1 + 6 * 7);
        assertThat(Files.readString(tmp.resolve("out/report.md"))).contains("| layer 5 | 8 | 8 | 16 |");
        assertThat(report.path("precision").asText()).isEqualTo("int8");
        Int8Bert back = Int8BertFile.load(r.modelFile());
        assertThat(back.config().layers()).isEqualTo(6);
        assertThat(Int8BertFile.metadata(r.modelFile())).containsEntry("source_model", "all-minilm-l6-v2");
    }

    @Test
    void badCalibrationFilesFailSayingWhatToChange(@TempDir Path tmp) throws Exception {
        Path empty = Files.writeString(tmp.resolve("empty.txt"), "\n  \n");
        assertThatThrownBy(() -> CalibrationTexts.read(empty)).hasMessageContaining("has no texts: give at least one"
                + " text per line");
        Path png = Files.write(tmp.resolve("cat.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0});
        assertThatThrownBy(() -> CalibrationTexts.read(png)).hasMessageContaining("is not text (a PNG image): a text"
                + " model calibrates on texts");
        Path images = Files.writeString(tmp.resolve("events.jsonl"),
                "{\"type\":\"image\",\"version\":1,\"id\":\"a\",\"image\":\"AAAA\"}\n");
        assertThatThrownBy(() -> CalibrationTexts.read(images)).hasMessageContaining("line 1 is an image event, but"
                + " the model is a text model");
        Path noText = Files.writeString(tmp.resolve("no-text.jsonl"), "{\"type\":\"text\",\"text\":\"  \"}\n");
        assertThatThrownBy(() -> CalibrationTexts.read(noText)).hasMessageContaining("line 1 has no non-empty"
                + " \"text\" field");
        Path latin1 = Files.write(tmp.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xE9, '\n'});
        assertThatThrownBy(() -> CalibrationTexts.read(latin1)).hasMessageContaining("is not valid UTF-8");
        assertThatThrownBy(() -> CalibrationTexts.read(tmp.resolve("missing.txt"))).hasMessageContaining("does not"
                + " exist");
        Path ok = Files.writeString(tmp.resolve("ok.jsonl"), "{\"type\":\"text\",\"text\":\"hello\"}\nplain line\n");
        assertThat(CalibrationTexts.read(ok)).containsExactly("hello", "plain line");
        assertThatThrownBy(() -> new TextQuantization.Options("all-minilm-l6-v2", null, 0, 0, 64, 0.8, tmp, 1))
                .hasMessageContaining("--texts must be at least 1");
        assertThatThrownBy(() -> TextQuantization.run(new TextQuantization.Options("no-such-model", null, 1, 0, 64,
                0.8, tmp, 1), System.out)).hasMessageContaining("unknown model 'no-such-model'; known:");
    }

    @Test
    void aFloatModelWithNaNIsRefusedNamingTheWeight(@TempDir Path tmp) throws Exception {
        RandomBert shape = new RandomBert(1, 16, 2, 32, 1100, 16);
        Path dir = shape.write(tmp.resolve("bert"), 1);
        List<WeightArray> all = new ArrayList<>();
        try (io.inflow.gpu.model.safetensors.SafetensorsFile f =
                     io.inflow.gpu.model.safetensors.SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            for (String name : f.entries().keySet()) {
                WeightArray a = f.read(name).orElseThrow();
                if (name.endsWith("intermediate.dense.weight")) {
                    a.data()[5] = Float.NaN;
                }
                all.add(a);
            }
        }
        SafetensorsWriter.writeF32(dir.resolve("model.safetensors"), all);
        TokenBatch tb = shape.tokens(new Random(1), new int[] {5, 9});
        try (SafetensorsWeights w = SafetensorsWeights.open(dir); ReferenceCpuBackend b = new ReferenceCpuBackend(null)) {
            assertThatThrownBy(() -> BertQuantizer.quantize(w, w.bertConfig(), tb.ids(), tb.lengths(), tb.batch(),
                    tb.seq(), b, CalibrationOptions.defaults(), null))
                    .hasMessageContaining("weight encoder.layer.0.intermediate.dense.weight")
                    .hasMessageContaining("holds NaN at index 5: the float model is broken");
            assertThatThrownBy(() -> BertQuantizer.quantize(w, w.bertConfig(), new int[0], new int[0], 0, 0, b,
                    CalibrationOptions.defaults(), null)).hasMessageContaining("give at least one tokenised text");
        }
    }
}
