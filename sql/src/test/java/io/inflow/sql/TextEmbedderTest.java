package io.inflow.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.inflow.gpu.text.TextModel;
import io.inflow.operators.embed.EncoderSpec;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link TextEmbedder} groups a micro-batch's rows by length (the DataStream batcher's buckets) instead of padding
 * every row to the longest: the answers are each text's own embedding, in the rows' order, and the padded tokens
 * stay far below rows x longest.
 */
class TextEmbedderTest {

    private static final int MAX_TOKENS = 256;
    /**
     * Batch against single-row embeddings: the CPU kernels block a GEMM by its row count, so sums may be ordered
     * differently; 1e-5 is far below the ~1e-2 between different short sentences' unit vectors.
     */
    private static final double SAME_TEXT = 1e-5;

    @Test
    void rowsOfMixedLengthsGetTheirOwnEmbeddingsInOrderWithLittlePadding() throws Exception {
        EncoderSpec spec = EncoderSpec.defaults(TextModel.ALL_MINILM_L6_V2, 2, MAX_TOKENS);
        EmbeddingModelSettings settings = new EmbeddingModelSettings(spec, MAX_TOKENS, 64, Duration.ofMillis(50),
                false, "0", "127.0.0.1", "test");
        List<String> texts = new ArrayList<>();
        String longText = "stream processing on graphics processors ".repeat(60); // past the last bucket: truncated
        for (int i = 0; i < 14; i++) {
            texts.add(i % 7 == 3 ? longText + i : "short sentence number " + i);
        }
        try (TextEmbedder embedder = TextEmbedder.open(settings, "test-0")) {
            TextEmbedder.Result batch = embedder.embed(texts);
            assertThat(batch.truncated()).as("the long texts were cut to max-tokens").isEqualTo(2);
            for (int i = 0; i < 8; i++) { // rows 0..7: short ones before and after the long row 3, in both groups
                float[] alone = embedder.embed(List.of(texts.get(i))).embeddings()[0];
                float[] got = batch.embeddings()[i];
                assertThat(got).as("row %d", i).hasSize(alone.length);
                for (int k = 0; k < alone.length; k++) {
                    assertThat((double) got[k]).as("row %d value %d", i, k)
                            .isCloseTo(alone[k], org.assertj.core.data.Offset.offset(SAME_TEXT));
                }
            }
            // negative control for the order: neighbouring rows are different texts with different embeddings
            assertThat(maxAbsDiff(batch.embeddings()[0], batch.embeddings()[3])).isGreaterThan(1e-2);
            // 12 short rows padded to ~8 tokens and 2 rows of 256: all at 256 would be 14 x 256 = 3584
            assertThat(batch.paddedTokens()).as("padded tokens").isLessThan(2 * MAX_TOKENS + 12 * 16 + 1);
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
