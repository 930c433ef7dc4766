package io.inflow.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.head.HeadType;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.operators.embed.EncoderCompute;
import io.inflow.operators.embed.EncoderSpec;

import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code ML_PREDICT} with a projection head ({@code 'head'}, {@code 'head-weights'}: the DataStream pipeline's
 * {@code inflow.text.head.*}): the embeddings have the head's width and equal {@link EncoderCompute} with the same
 * head on each text alone; the output column's width is checked against the head's at planning.
 */
class MlPredictHeadTest {

    private static final int THREADS = 2;
    private static final int MAX_TOKENS = 64;
    /** The test head's output width: not the model's 384, so the width shows the head ran. */
    private static final int OUT = 96;
    /** Batch against single-row compute: reordered float sums move unit-vector elements by ~1e-7 (see MlPredictKafkaTest). */
    private static final double SAME_TEXT = 1e-5;

    @Test
    void aLinearHeadGivesTheHeadsWidthAndThePipelinesEmbeddings(@TempDir Path dir) throws Exception {
        Path head = linearHead(dir.resolve("linear-96.safetensors"), 384, OUT);
        Map<String, String> texts = new LinkedHashMap<>();
        texts.put("a", "A man is eating food.");
        texts.put("b", "The quick brown fox jumps over the lazy dog.");
        texts.put("c", "Kafka topics feed the Flink job.");
        texts.put("d", "GPU kernels have a CPU twin.");
        TableEnvironment t = tableEnvironment();
        StringBuilder values = new StringBuilder();
        texts.forEach((id, text) -> values.append(values.length() == 0 ? "" : ", ").append("('").append(id)
                .append("', '").append(text).append("')"));
        t.executeSql("CREATE TEMPORARY VIEW texts AS SELECT * FROM (VALUES " + values + ") AS v(id, text)");
        t.executeSql("CREATE MODEL projected INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>) WITH ("
                + " 'provider' = 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2',"
                + " 'head' = 'LINEAR', 'head-weights' = '" + head + "', 'max-tokens' = '" + MAX_TOKENS + "')");

        Map<String, float[]> got = new LinkedHashMap<>();
        try (CloseableIterator<Row> rows = t.executeSql("SELECT id, embedding FROM ML_PREDICT(TABLE texts, MODEL"
                + " projected, DESCRIPTOR(text))").collect()) {
            rows.forEachRemaining(r -> {
                Float[] v = r.getFieldAs(1);
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    f[i] = v[i];
                }
                got.put(r.getFieldAs(0), f);
            });
        }
        assertThat(got.keySet()).containsExactlyInAnyOrderElementsOf(texts.keySet());

        EncoderSpec spec = new EncoderSpec(TextModel.ALL_MINILM_L6_V2, TextModel.ALL_MINILM_L6_V2.defaultPooling(),
                true, HeadType.LINEAR, head.toString(), false, null, BackendKind.CPU, THREADS, MAX_TOKENS,
                CudaBackendConfig.defaults());
        EncoderCompute reference = new EncoderCompute(spec);
        reference.open();
        try (RootAllocator alloc = new RootAllocator();
             TextTokenizer tok = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, MAX_TOKENS)) {
            for (Map.Entry<String, String> e : texts.entrySet()) {
                Tokenized tokens = tok.encode(e.getValue());
                float[] want;
                try (TokenBatch batch = new TokenBatch(alloc, tokens.length(), 1)) {
                    batch.append(tokens.ids(), tokens.truncated());
                    want = reference.compute(batch).row(0);
                }
                float[] have = got.get(e.getKey());
                // the head's width, not the model's 384: the head really ran
                assertThat(want.length).as("the reference's width").isEqualTo(OUT);
                assertThat(have).as("width of %s", e.getKey()).hasSize(OUT);
                for (int i = 0; i < want.length; i++) {
                    assertThat((double) have[i]).as("%s value %d", e.getKey(), i)
                            .isCloseTo(want[i], org.assertj.core.data.Offset.offset(SAME_TEXT));
                }
            }
        } finally {
            reference.close();
        }

        // planning checks: the declared dimension against the head's, a head without weights, an unreadable adapter
        t.executeSql("CREATE MODEL wrong_width INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>) WITH ("
                + " 'provider' = 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2',"
                + " 'head' = 'LINEAR', 'head-weights' = '" + head + "', 'dimension' = '384')");
        assertThatThrownBy(() -> plan(t, "wrong_width")).hasStackTraceContaining("'dimension' is 384")
                .hasStackTraceContaining("with its LINEAR head produces " + OUT);
        t.executeSql("CREATE MODEL no_weights INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>) WITH ("
                + " 'provider' = 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2', 'head' = 'FFN')");
        assertThatThrownBy(() -> plan(t, "no_weights"))
                .hasStackTraceContaining("'head' is FFN but 'head-weights' is not set");
        t.executeSql("CREATE MODEL no_adapter INPUT (text STRING) OUTPUT (embedding ARRAY<FLOAT>) WITH ("
                + " 'provider' = 'inflow', 'task' = 'text-embedding', 'model' = 'all-minilm-l6-v2',"
                + " 'adapter-weights' = '" + dir.resolve("missing.safetensors") + "')");
        assertThatThrownBy(() -> plan(t, "no_adapter")).hasStackTraceContaining("'adapter-weights': cannot read");
    }

    /**
     * Writes a {@code LINEAR} head {@code [out, in]} (weights and bias, seeded) in the safetensors layout
     * {@code gpu/README.md} names: {@code linear.weight}, {@code linear.bias}, F32 little endian.
     */
    private static Path linearHead(Path file, int in, int out) throws Exception {
        int weights = out * in;
        String header = "{\"linear.bias\":{\"dtype\":\"F32\",\"shape\":[" + out + "],\"data_offsets\":[0,"
                + 4 * out + "]},\"linear.weight\":{\"dtype\":\"F32\",\"shape\":[" + out + "," + in
                + "],\"data_offsets\":[" + 4 * out + "," + 4 * (out + weights) + "]}}";
        while ((header.length() + 8) % 8 != 0) {
            header += " ";
        }
        byte[] h = header.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + h.length + 4 * (out + weights))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        java.util.Random rnd = new java.util.Random(17);
        for (int i = 0; i < out + weights; i++) {
            b.putFloat((float) (rnd.nextGaussian() / Math.sqrt(in)));
        }
        Files.write(file, b.array());
        return file;
    }

    private static void plan(TableEnvironment t, String model) {
        t.explainSql("SELECT id, embedding FROM ML_PREDICT(TABLE texts, MODEL " + model + ", DESCRIPTOR(text))");
    }

    private static TableEnvironment tableEnvironment() {
        Configuration conf = new Configuration();
        conf.setString("parallelism.default", "1");
        conf.setString("inflow.compute.threads", Integer.toString(THREADS));
        conf.setString("inflow.metrics.enabled", "false");
        return TableEnvironment.create(EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf)
                .build());
    }
}
