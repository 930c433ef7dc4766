package io.inflow.jobs.config;

import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import io.inflow.gpu.quant.Int8BertFile;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.operators.score.ScorerSpec;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The scorer keys are read and checked at start; each error names the key and what to change. */
class ScorerSettingsTest {

    private static Configuration scorer(String... kv) {
        Configuration c = new Configuration();
        c.setString("inflow.kafka.bootstrap-servers", "localhost:9092");
        c.setString("inflow.text.scorer", "spam-ham-minilm");
        for (int i = 0; i < kv.length; i += 2) {
            c.setString(kv[i], kv[i + 1]);
        }
        return c;
    }

    private static ScorerSpec spec(Configuration c) {
        return ((EncoderCompute) PipelineSettings.from(c).compute()).scorer();
    }

    @Test
    void unsetOrNoneMeansNoScorer() {
        Configuration c = scorer();
        c.removeConfig(ScorerOptions.SCORER);
        assertThat(spec(c)).isNull();
        assertThat(spec(scorer("inflow.text.scorer", "none"))).isNull();
    }

    @Test
    void bundledScorerWithItsDefaults() {
        ScorerSpec s = spec(scorer());
        assertThat(s.scorer()).isEqualTo("spam-ham-minilm");
        assertThat(s.bundled()).isTrue();
        assertThat(s.precision()).isEqualTo("float32");
        assertThat(s.quantizedModel()).isNull();
        assertThat(s.cacheDir()).endsWith("inflow-quantized");
        assertThat(spec(scorer("inflow.text.scorer.precision", "INT8")).precision()).isEqualTo("int8");
        ScorerSpec mixed = spec(scorer("inflow.text.scorer.precision", "mixed", "inflow.text.scorer.size-budget", "0.75"));
        assertThat(mixed.effectiveBudget()).isEqualTo(0.75);
    }

    @Test
    void badValuesNameTheirKey() {
        assertThatThrownBy(() -> spec(scorer("inflow.text.scorer.precision", "fp16")))
                .hasMessageContaining("inflow.text.scorer.precision").hasMessageContaining("float32, int8 or mixed");
        assertThatThrownBy(() -> spec(scorer("inflow.text.scorer", "no-such-scorer")))
                .hasMessageContaining("inflow.text.scorer").hasMessageContaining("spam-ham-minilm");
        assertThatThrownBy(() -> spec(scorer("inflow.text.scorer.precision", "mixed",
                "inflow.text.scorer.size-budget", "0.3"))).hasMessageContaining("inflow.text.scorer.size-budget");
        assertThatThrownBy(() -> spec(scorer("inflow.text.scorer.precison", "int8")))
                .hasMessageContaining("inflow.text.scorer.precision"); // the typo's nearest known key
    }

    @Test
    void scorerTrainedOnAnotherModelIsRefused() {
        assertThatThrownBy(() -> spec(scorer("inflow.text.model", "bge-small-en-v15")))
                .hasMessageContaining("inflow.text.scorer").hasMessageContaining("inflow.text.model")
                .hasMessageContaining("all-minilm-l6-v2");
    }

    @Test
    void tokensOnlyComputeCannotScore() {
        assertThatThrownBy(() -> spec(scorer("inflow.text.compute", "TOKENS")))
                .hasMessageContaining("inflow.text.scorer").hasMessageContaining("inflow.text.compute");
    }

    @Test
    void quantizedModelFileIsCheckedAtStart(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> spec(scorer("inflow.text.scorer.quantized-model", dir.resolve("x").toString())))
                .as("a file with float32").hasMessageContaining("inflow.text.scorer.quantized-model")
                .hasMessageContaining("inflow.text.scorer.precision");
        assertThatThrownBy(() -> spec(scorer("inflow.text.scorer.precision", "int8",
                "inflow.text.scorer.quantized-model", dir.resolve("missing.safetensors").toString())))
                .hasMessageContaining("inflow.text.scorer.quantized-model").hasMessageContaining("./inflow quantize");
        Path other = dir.resolve("bge.safetensors");
        SafetensorsWriter.write(other, List.of(SafetensorsWriter.Typed.i8("x", new byte[] {1}, 1)),
                Map.of("format", Int8BertFile.FORMAT, "source_model", "bge-small-en-v15", "max_tokens", "128"));
        assertThatThrownBy(() -> spec(scorer("inflow.text.scorer.precision", "int8",
                "inflow.text.scorer.quantized-model", other.toString())))
                .hasMessageContaining("inflow.text.scorer.quantized-model").hasMessageContaining("bge-small-en-v15")
                .hasMessageContaining("--model all-minilm-l6-v2");
        Path longer = dir.resolve("t256.safetensors");
        SafetensorsWriter.write(longer, List.of(SafetensorsWriter.Typed.i8("x", new byte[] {1}, 1)),
                Map.of("format", Int8BertFile.FORMAT, "source_model", "all-minilm-l6-v2", "max_tokens", "256"));
        assertThatThrownBy(() -> spec(scorer("inflow.text.scorer.precision", "int8",
                "inflow.text.scorer.quantized-model", longer.toString()))).hasMessageContaining("--max-tokens 128");
    }

    @Test
    void scorerDirectoryOnDisk(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("scorer.json"), "{\"name\":\"mine\",\"version\":\"3\",\"task\":\"classification\","
                + "\"encoder\":\"all-minilm-l6-v2\",\"pooling\":\"mean\",\"normalize\":true,\"max_tokens\":64,"
                + "\"labels\":[\"a\",\"b\"]}");
        assertThatThrownBy(() -> spec(scorer("inflow.text.scorer", dir.toString())))
                .hasMessageContaining("inflow.text.scorer").hasMessageContaining("head.safetensors");
        SafetensorsWriter.write(dir.resolve("head.safetensors"), List.of(
                SafetensorsWriter.Typed.f32("classifier.weight", new float[2 * 384], 2, 384),
                SafetensorsWriter.Typed.f32("classifier.bias", new float[2], 2)), Map.of());
        ScorerSpec s = spec(scorer("inflow.text.scorer", dir.toString()));
        assertThat(s.bundled()).isFalse();
        assertThat(s.loadHead().name()).isEqualTo("mine");
    }
}
