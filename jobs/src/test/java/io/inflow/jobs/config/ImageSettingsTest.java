package io.inflow.jobs.config;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.operators.embed.ImageEncoderSpec;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The image branch's keys are validated at start, each error naming the key and what to change. */
class ImageSettingsTest {

    @TempDir
    Path dir;

    private static Configuration valid() {
        Configuration c = new Configuration();
        c.setString("inflow.kafka.bootstrap-servers", "localhost:9092");
        return c;
    }

    @Test
    void defaultsRunTheBundledModelWithInlineImagesOnly() {
        PipelineSettings s = PipelineSettings.from(valid());
        assertThat(s.imagesEnabled()).isTrue();
        ImageSettings img = s.images();
        assertThat(img.encoder()).isEqualTo(ImageEncoderSpec.bundled(BackendKind.CPU, 2));
        assertThat(img.decode().imageRoot()).isNull();
        assertThat(img.decode().maxBytes()).isEqualTo(8 << 20);
        assertThat(img.topK()).isEqualTo(3);
        assertThat(img.batching().maxRecords()).isEqualTo(64);
        assertThat(img.decoderThreads()).isEqualTo(1);
        assertThat(img.decodeCapacity()).isEqualTo(16);
    }

    @Test
    void theImageBranchCanBeSwitchedOff() {
        Configuration c = valid();
        c.setString("inflow.image.enabled", "false");
        c.setString("inflow.image.root", "/does/not/matter/when/off");
        assertThat(PipelineSettings.from(c).imagesEnabled()).isFalse();
    }

    @Test
    void nonDefaultValuesAreRead() throws Exception {
        Path model = Files.createDirectories(dir.resolve("my-vit"));
        Files.writeString(model.resolve("config.json"), "{}");
        Files.writeString(model.resolve("model.safetensors"), "");
        Configuration c = valid();
        c.setString("inflow.image.root", dir.toString());
        c.setString("inflow.image.model-dir", model.toString());
        c.setString("inflow.image.top-k", "5");
        c.setString("inflow.image.max-pixels", "1000000");
        c.setString("inflow.image.batch.max-records", "16");
        c.setString("inflow.schemas.max-image-bytes", "1048576");
        ImageSettings img = PipelineSettings.from(c).images();
        assertThat(img.decode().imageRoot()).isEqualTo(dir.toString());
        assertThat(img.decode().maxPixels()).isEqualTo(1_000_000);
        assertThat(img.decode().maxBytes()).isEqualTo(1 << 20);
        assertThat(img.encoder().modelDir()).isEqualTo(model.toAbsolutePath().toString());
        assertThat(img.encoder().modelName()).isEqualTo("my-vit");
        assertThat(img.topK()).isEqualTo(5);
        assertThat(img.batching().maxRecords()).isEqualTo(16);
    }

    @Test
    void aRootThatIsNotADirectoryNamesTheKey() {
        Configuration c = valid();
        c.setString("inflow.image.root", dir.resolve("missing").toString());
        assertThatThrownBy(() -> PipelineSettings.from(c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'inflow.image.root'").hasMessageContaining("not a directory");
    }

    @Test
    void aModelDirWithoutWeightsNamesTheKeyAndTheMissingFile() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{}");
        Configuration c = valid();
        c.setString("inflow.image.model-dir", dir.toString());
        assertThatThrownBy(() -> PipelineSettings.from(c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'inflow.image.model-dir'").hasMessageContaining("no model.safetensors");
    }

    @Test
    void outOfRangeNumbersNameTheirKeys() {
        Configuration c = valid();
        c.setString("inflow.image.top-k", "-1");
        assertThatThrownBy(() -> PipelineSettings.from(c)).hasMessageContaining("'inflow.image.top-k'");
        Configuration d = valid();
        d.setString("inflow.image.batch.max-pixel-bytes", "0");
        assertThatThrownBy(() -> PipelineSettings.from(d))
                .hasMessageContaining("'inflow.image.batch.max-pixel-bytes'");
        Configuration e = valid();
        e.setString("inflow.image.max-side", "0");
        assertThatThrownBy(() -> PipelineSettings.from(e)).hasMessageContaining("'inflow.image.max-side'");
        Configuration f = valid();
        f.setString("inflow.image.decoder-threads", "0");
        assertThatThrownBy(() -> PipelineSettings.from(f)).hasMessageContaining("'inflow.image.decoder-threads'");
        Configuration g = valid();
        g.setString("inflow.image.decode-capacity", "0");
        assertThatThrownBy(() -> PipelineSettings.from(g)).hasMessageContaining("'inflow.image.decode-capacity'");
    }
}
