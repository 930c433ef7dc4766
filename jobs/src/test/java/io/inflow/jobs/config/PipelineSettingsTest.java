package io.inflow.jobs.config;

import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.backend.cuda.GemmPrecision;
import io.inflow.gpu.text.TextModel;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.operators.embed.EmbeddingEncoding;
import io.inflow.schemas.Limits;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The whole pipeline configuration is validated at start, each error naming the key to change. */
class PipelineSettingsTest {

    private static Configuration valid() {
        Configuration c = new Configuration();
        c.setString("inflow.kafka.bootstrap-servers", "localhost:9092");
        return c;
    }

    @Test
    void validConfigurationYieldsTheDefaults() {
        PipelineSettings s = PipelineSettings.from(valid());

        assertThat(s.model()).isEqualTo(TextModel.ALL_MINILM_L6_V2);
        assertThat(s.model().modelName()).isEqualTo("all-minilm-l6-v2");
        assertThat(s.maxTokens()).isEqualTo(256);
        assertThat(s.encoding()).isEqualTo(EmbeddingEncoding.FLOAT32);
        assertThat(s.limits().maxRecordBytes()).isEqualTo(1 << 20);
        assertThat(s.limits().maxTextBytes()).isEqualTo(64 << 10);
        assertThat(s.limits()).isEqualTo(Limits.defaults());
        assertThat(s.kafka().bootstrapServers()).isEqualTo("localhost:9092");
        assertThat(s.batching().buckets()).endsWith(256);
    }

    @Test
    void nonDefaultValuesAreRead() {
        Configuration c = valid();
        c.setString("inflow.text.model", "bge-small-en-v15");
        c.setString("inflow.text.max-tokens", "128");
        c.setString("inflow.embedding.encoding", "FLOAT16_BASE64");
        c.setString("inflow.schemas.max-record-bytes", "2097152");
        c.setString("inflow.schemas.max-text-bytes", "1024");
        c.setString("inflow.schemas.max-id-length", "64");
        c.setString("inflow.schemas.max-attributes", "8");
        c.setString("inflow.batch.length-buckets", "32;64;128");

        PipelineSettings s = PipelineSettings.from(c);

        assertThat(s.model()).isEqualTo(TextModel.BGE_SMALL_EN_V15);
        assertThat(s.maxTokens()).isEqualTo(128);
        assertThat(s.encoding()).isEqualTo(EmbeddingEncoding.FLOAT16_BASE64);
        assertThat(s.limits().maxRecordBytes()).isEqualTo(2 << 20);
        assertThat(s.limits().maxTextBytes()).isEqualTo(1024);
        assertThat(s.limits().maxIdLength()).isEqualTo(64);
        assertThat(s.limits().maxAttributes()).isEqualTo(8);
        assertThat(s.batching().buckets()).containsExactly(32, 64, 128);
    }

    @Test
    void unknownModelNamesTheKeyAndListsTheKnownModels() {
        Configuration c = valid();
        c.setString("inflow.text.model", "gpt-17");

        assertThatThrownBy(() -> PipelineSettings.from(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.text.model")
                .hasMessageContaining("gpt-17")
                .hasMessageContaining("all-minilm-l6-v2")
                .hasMessageContaining("bge-small-en-v15");
    }

    @ParameterizedTest
    @ValueSource(ints = {600, 513, 1, 0})
    void maxTokensOutsideTheTokenizerRangeNamesTheKey(int maxTokens) {
        Configuration c = valid();
        c.setString("inflow.text.max-tokens", Integer.toString(maxTokens));

        assertThatThrownBy(() -> PipelineSettings.from(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.text.max-tokens")
                .hasMessageContaining("between 2 and 512")
                .hasMessageContaining("was " + maxTokens);
    }

    @Test
    void maxTokensAtTheTokenizerLimitIsAcceptedWithALongEnoughBucket() {
        Configuration c = valid();
        c.setString("inflow.text.max-tokens", "512");
        c.setString("inflow.batch.length-buckets", "64;512");

        assertThat(PipelineSettings.from(c).maxTokens()).isEqualTo(512);
    }

    @Test
    void maxTokensAboveTheLongestBucketNamesBothKeys() {
        Configuration c = valid();
        c.setString("inflow.text.max-tokens", "300");

        assertThatThrownBy(() -> PipelineSettings.from(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.text.max-tokens")
                .hasMessageContaining("inflow.batch.length-buckets")
                .hasMessageContaining("300")
                .hasMessageContaining("256");
    }

    @Test
    void shrinkingTheBucketsBelowTheDefaultTokenLimitFails() {
        Configuration c = valid();
        c.setString("inflow.batch.length-buckets", "16;32;64");

        assertThatThrownBy(() -> PipelineSettings.from(c))
                .hasMessageContaining("inflow.text.max-tokens")
                .hasMessageContaining("inflow.batch.length-buckets");
    }

    @Test
    void negativeMaxTextBytesNamesTheKey() {
        Configuration c = valid();
        c.setString("inflow.schemas.max-text-bytes", "-1");

        assertThatThrownBy(() -> PipelineSettings.from(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.schemas.max-text-bytes")
                .hasMessageContaining("-1");
    }

    @Test
    void kafkaErrorsSurfaceToo() {
        assertThatThrownBy(() -> PipelineSettings.from(new Configuration()))
                .hasMessageContaining("inflow.kafka.bootstrap-servers");
    }

    @Test
    void anUnresolvableBootstrapHostIsNamedInTheError() {
        Configuration c = new Configuration();
        c.setString("inflow.kafka.bootstrap-servers", "kafka-1.invalid:9092");

        assertThatThrownBy(() -> PipelineSettings.from(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inflow.kafka.bootstrap-servers")
                .hasMessageContaining("host 'kafka-1.invalid'")
                .hasMessageContaining("cannot be resolved");
    }

    @Test
    void anUnknownInflowKeyFailsNamingTheNearestKnownKey() {
        Configuration c = valid();
        c.setString("inflow.batch.max-record", "32");

        assertThatThrownBy(() -> PipelineSettings.from(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unknown key inflow.batch.max-record; did you mean inflow.batch.max-records?");
    }

    @Test
    void everyUnknownKeyIsListedAndOtherNamespacesAreLeftAlone() {
        Configuration c = valid();
        c.setString("inflow.kafka.bootstrap-server", "localhost:9092");
        c.setString("inflow.image.topk", "5");
        c.setString("parallelism.default", "2");              // Flink's own
        c.setString("my.company.setting", "x");                // not ours

        assertThatThrownBy(() -> PipelineSettings.from(c))
                .hasMessageContaining("unknown key inflow.image.topk; did you mean inflow.image.top-k?")
                .hasMessageContaining(
                        "unknown key inflow.kafka.bootstrap-server; did you mean inflow.kafka.bootstrap-servers?")
                .hasMessageNotContaining("parallelism").hasMessageNotContaining("my.company");
    }

    @Test
    void prefixFamiliesAcceptAnyKeyBelowThem() {
        Configuration c = valid();
        c.setString("inflow.kafka.properties.security.protocol", "SSL");

        assertThat(PipelineSettings.from(c).kafka().clientProperties()).containsEntry("security.protocol", "SSL");
    }

    /** The CUDA settings are Flink options: read from the configuration into both encoder specs. */
    @Test
    void cudaKeysAreReadIntoTheEncoderSpecs() {
        Configuration c = valid();
        c.setString("inflow.cuda.pool-bytes", "1 gb");
        c.setString("inflow.cuda.staging-bytes", "1048576");
        c.setString("inflow.cuda.sync-after-launch", "true");
        c.setString("inflow.cuda.gemm-precision", "FP16");
        c.setString("inflow.cuda.device", "1");

        PipelineSettings s = PipelineSettings.from(c);

        CudaBackendConfig expected = new CudaBackendConfig(1, 1L << 30, 1L << 20, true, GemmPrecision.FP16);
        assertThat(((EncoderCompute) s.compute()).spec().cuda()).isEqualTo(expected);
        assertThat(s.images().encoder().cuda()).isEqualTo(expected);
        assertThat(((EncoderCompute) PipelineSettings.from(valid()).compute()).spec().cuda())
                .isEqualTo(CudaBackendConfig.defaults());
    }

    @Test
    void badCudaValuesAndMistypedCudaKeysFailNamingTheKey() {
        Configuration small = valid();
        small.setString("inflow.cuda.pool-bytes", "1 kb");
        assertThatThrownBy(() -> PipelineSettings.from(small)).hasMessageContaining("inflow.cuda.pool-bytes must be at least");

        Configuration typo = valid();
        typo.setString("inflow.cuda.pool-byte", "1 gb");
        assertThatThrownBy(() -> PipelineSettings.from(typo))
                .hasMessageStartingWith("unknown key inflow.cuda.pool-byte; did you mean inflow.cuda.pool-bytes?");
    }

    /**
     * The topic tree is sized for what the encoder emits: with a projection head, the head's output width, read from
     * its weights file at configuration time (here a linear head 384 -> 48 written for the test). Without the head
     * the same configuration gives the model's 384.
     */
    @Test
    void topicTreesTakeTheProjectionHeadsWidth(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path weights = tmp.resolve("linear-48.safetensors");
        float[] w = new float[48 * 384];
        io.inflow.gpu.model.safetensors.SafetensorsWriter.writeF32(weights, java.util.List.of(
                new io.inflow.gpu.model.WeightArray("linear.weight", new int[] {48, 384}, w),
                new io.inflow.gpu.model.WeightArray("linear.bias", new int[] {48},
                        new float[48])));
        Configuration c = valid();
        c.setString("inflow.topics.enabled", "true");
        assertThat(PipelineSettings.from(c).topics().tree().dim()).as("no head: the model's width").isEqualTo(384);
        c.setString("inflow.text.head.type", "LINEAR");
        c.setString("inflow.text.head.weights", weights.toString());
        assertThat(PipelineSettings.from(c).topics().tree().dim()).as("the head's output width").isEqualTo(48);
        c.setString("inflow.text.head.weights", tmp.resolve("missing.safetensors").toString());
        assertThatThrownBy(() -> PipelineSettings.from(c)).hasMessageContaining("inflow.text.head.weights")
                .hasMessageContaining("missing.safetensors");
    }
}
