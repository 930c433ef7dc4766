package io.inflow.jobs.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TokenStorage;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

/** The {@code inflow.retrieval.*} keys, MaxSim rerank included: read, defaulted, and refused naming the key. */
class RetrievalJobSettingsTest {

    private static Configuration retrieval() {
        Configuration c = new Configuration();
        c.setString("inflow.kafka.bootstrap-servers", "localhost:9092");
        c.setString("inflow.retrieval.enabled", "true");
        return c;
    }

    @Test
    void offByDefaultAndSingleStageWhenOn() {
        Configuration off = retrieval();
        off.setString("inflow.retrieval.enabled", "false");
        assertThat(PipelineSettings.from(off).retrieval()).isNull();

        RetrievalJobSettings r = PipelineSettings.from(retrieval()).retrieval();
        assertThat(r.index().dim()).isEqualTo(384);
        assertThat(r.index().k()).isEqualTo(10);
        assertThat(r.index().metric()).isEqualTo(Metric.COSINE);
        assertThat(r.index().storage()).isEqualTo(Storage.FLOAT16);
        assertThat(r.index().rerank()).isNull();
        assertThat(r.tokenHead()).isNull();
        assertThat(r.index().firstStageK()).isEqualTo(10);
    }

    @Test
    void rerankReadsItsKeys() {
        Configuration c = retrieval();
        c.setString("inflow.retrieval.rerank.enabled", "true");
        c.setString("inflow.retrieval.rerank.candidates", "50");
        c.setString("inflow.retrieval.rerank.head", "ffn-residual");
        c.setString("inflow.retrieval.rerank.storage", "bit1");

        RetrievalJobSettings r = PipelineSettings.from(c).retrieval();

        assertThat(r.index().rerank().candidates()).isEqualTo(50);
        assertThat(r.index().rerank().storage()).isEqualTo(TokenStorage.BIT1);
        assertThat(r.index().rerank().tokenDim()).isEqualTo(384);
        assertThat(r.index().firstStageK()).isEqualTo(50);
        assertThat(r.tokenHead().variant()).isEqualTo("ffn-residual");
        assertThat(r.tokenHead().file()).isNull();
    }

    @Test
    void rerankDefaults() {
        Configuration c = retrieval();
        c.setString("inflow.retrieval.rerank.enabled", "true");
        RetrievalJobSettings r = PipelineSettings.from(c).retrieval();
        assertThat(r.index().rerank().candidates()).isEqualTo(100);
        assertThat(r.index().rerank().storage()).isEqualTo(TokenStorage.INT8);
        assertThat(r.tokenHead().variant()).isEqualTo("glu-residual");

        Configuration bge = retrieval();
        bge.setString("inflow.text.model", "bge-small-en-v15");
        bge.setString("inflow.retrieval.rerank.enabled", "true");
        assertThat(PipelineSettings.from(bge).retrieval().tokenHead().isNone())
                .as("no bundled heads for bge: the unset head is none, not an error").isTrue();
    }

    @Test
    void badRerankSettingsFailNamingTheKey() {
        Configuration fewer = retrieval();
        fewer.setString("inflow.retrieval.rerank.enabled", "true");
        fewer.setString("inflow.retrieval.k", "20");
        fewer.setString("inflow.retrieval.rerank.candidates", "10");
        assertThatThrownBy(() -> PipelineSettings.from(fewer))
                .hasMessageContaining("inflow.retrieval.rerank.candidates").hasMessageContaining("20");

        Configuration head = retrieval();
        head.setString("inflow.retrieval.rerank.enabled", "true");
        head.setString("inflow.retrieval.rerank.head", "mlp");
        assertThatThrownBy(() -> PipelineSettings.from(head))
                .hasMessageContaining("inflow.retrieval.rerank.head").hasMessageContaining("ffn-residual");

        Configuration storage = retrieval();
        storage.setString("inflow.retrieval.rerank.enabled", "true");
        storage.setString("inflow.retrieval.rerank.storage", "int4");
        assertThatThrownBy(() -> PipelineSettings.from(storage))
                .hasMessageContaining("inflow.retrieval.rerank.storage").hasMessageContaining("bit1");

        Configuration missing = retrieval();
        missing.setString("inflow.retrieval.rerank.enabled", "true");
        missing.setString("inflow.retrieval.rerank.head", "glu");
        missing.setString("inflow.retrieval.rerank.head-file", Path.of("no", "such.safetensors").toString());
        assertThatThrownBy(() -> PipelineSettings.from(missing))
                .hasMessageContaining("inflow.retrieval.rerank.head-file").hasMessageContaining("no such file");

        Configuration otherModel = retrieval();
        otherModel.setString("inflow.text.model", "bge-small-en-v15");
        otherModel.setString("inflow.retrieval.rerank.enabled", "true");
        otherModel.setString("inflow.retrieval.rerank.head", "linear");
        assertThatThrownBy(() -> PipelineSettings.from(otherModel))
                .hasMessageContaining("inflow.retrieval.rerank.head").hasMessageContaining("all-minilm-l6-v2")
                .hasMessageContaining("bge-small-en-v15");

        Configuration pooling = retrieval();
        pooling.setString("inflow.retrieval.rerank.enabled", "true");
        pooling.setString("inflow.text.pooling", "MULTI_LAYER_MEAN");
        assertThatThrownBy(() -> PipelineSettings.from(pooling))
                .hasMessageContaining("inflow.text.pooling").hasMessageContaining("inflow.retrieval.rerank.enabled");
    }

    @Test
    void rerankWithoutAHeadWorksForEveryModel() {
        Configuration c = retrieval();
        c.setString("inflow.text.model", "bge-small-en-v15");
        c.setString("inflow.retrieval.rerank.enabled", "true");
        c.setString("inflow.retrieval.rerank.head", "none");
        assertThat(PipelineSettings.from(c).retrieval().tokenHead().isNone()).isTrue();
    }
}
