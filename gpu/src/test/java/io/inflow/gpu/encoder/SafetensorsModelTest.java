package io.inflow.gpu.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.testing.MiniLm;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.TokenBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugging Face directories (config.json + safetensors): the MiniLM weights exported from the ONNX file
 * give bit-identical embeddings; a missing or mis-shaped tensor fails at load naming it and both shapes.
 */
class SafetensorsModelTest {
    @TempDir
    Path tmp;

    @Test
    void safetensorsExportOfOnnxWeightsEncodesIdentically() throws Exception {
        Path dir = MiniLm.exportSafetensors(tmp.resolve("minilm"), MiniLm.hfWeights());
        List<String> texts = List.of("A man is eating food.", "Le chat dort sur le canapé 😺", "x");
        try (ModelTokenizer tok = ModelTokenizer.fromResource(MiniLm.TOKENIZER, 256);
             TextEncoder fromOnnx = TextEncoder.create(TextEncoderConfig.builder().onnxResource(MiniLm.ONNX).threads(2).build());
             TextEncoder fromSafetensors = TextEncoder.create(TextEncoderConfig.builder().safetensors(dir).threads(2).build())) {
            TokenBatch tb = tok.batch(texts);
            assertThat(fromSafetensors.modelName()).isEqualTo("minilm");
            assertThat(fromSafetensors.dimension()).isEqualTo(384);
            assertThat(OrtParityTest.encode(fromSafetensors, tb, null)).containsExactly(OrtParityTest.encode(fromOnnx, tb, null));
        }
    }

    @Test
    void missingTensorFailsAtLoadWithItsName() throws Exception {
        List<WeightArray> w = new ArrayList<>(MiniLm.hfWeights());
        w.removeIf(a -> a.name().equals("encoder.layer.3.attention.self.key.weight"));
        Path dir = MiniLm.exportSafetensors(tmp.resolve("missing"), w);
        assertThatThrownBy(() -> TextEncoder.create(TextEncoderConfig.builder().safetensors(dir).threads(1).build()))
                .hasMessageContaining("encoder.layer.3.attention.self.key.weight")
                .hasMessageContaining("[384, 384]").hasMessageContaining("missing");
    }

    @Test
    void misShapedTensorFailsAtLoadWithBothShapes() throws Exception {
        List<WeightArray> w = new ArrayList<>(MiniLm.hfWeights());
        w.replaceAll(a -> a.name().equals("encoder.layer.1.intermediate.dense.weight")
                ? new WeightArray(a.name(), new int[] {384, 1536}, a.data()) : a);
        Path dir = MiniLm.exportSafetensors(tmp.resolve("misshaped"), w);
        assertThatThrownBy(() -> TextEncoder.create(TextEncoderConfig.builder().safetensors(dir).threads(1).build()))
                .hasMessageContaining("encoder.layer.1.intermediate.dense.weight")
                .hasMessageContaining("expected shape [1536, 384]").hasMessageContaining("found [384, 1536]");
    }
}
