package io.inflow.gpu.quant;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.onnx.OnnxBertWeights;
import io.inflow.gpu.model.onnx.OnnxModel;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.TokenBatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * MiniLM (the langchain4j ONNX file) quantized for the integer path, calibrated on the bundled calibration texts
 * (the first {@code n} lines of {@code calibration/text-calibration.txt}, at most {@code maxTokens} tokens each).
 *
 * <p>{@code Int8Bert q = MiniLmInt8Fixture.quantize(backend, 32, 128, CalibrationOptions.defaults());}
 */
final class MiniLmInt8Fixture {
    static final String MODEL = "all-minilm-l6-v2";

    private MiniLmInt8Fixture() {
    }

    static OnnxBertWeights weights() throws IOException {
        return new OnnxBertWeights(OnnxModel.fromClasspath(MODEL + ".onnx"), MODEL);
    }

    static List<String> calibrationTexts(int n) throws IOException {
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                MiniLmInt8Fixture.class.getClassLoader().getResourceAsStream("calibration/text-calibration.txt"),
                StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null && out.size() < n; line = r.readLine()) {
                out.add(line);
            }
        }
        return out;
    }

    static Int8Bert quantize(Backend backend, int texts, int maxTokens, CalibrationOptions options) throws IOException {
        OnnxBertWeights w = weights();
        BertConfig c = w.inferConfig();
        try (ModelTokenizer tok = ModelTokenizer.fromResource(MODEL + "-tokenizer.json", maxTokens)) {
            TokenBatch tb = tok.batch(calibrationTexts(texts));
            return BertQuantizer.quantize(w, c, tb.ids(), tb.lengths(), tb.batch(), tb.seq(), backend, options,
                    System.out::println);
        }
    }
}
