package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The encoder step on a real Arrow batch with the real MiniLM weights. */
class EncoderComputeTest {

    /** Known value (sentence-transformers, MiniLM mean pooling); the tolerance. */
    private static final double CLASSIC_PAIR_COSINE = 0.7553;
    private static final double CLASSIC_PAIR_TOLERANCE = 5e-4;
    /** Padding must not change a row's embedding beyond float summation-order noise. */
    private static final double PADDING_INVARIANCE_TOLERANCE = 1e-5;

    @Test
    void embedsTheBatchInPlaceAndReproducesTheClassicPair() throws Exception {
        EncoderSpec spec = EncoderSpec.defaults(TextModel.ALL_MINILM_L6_V2, 2, 32);
        EncoderCompute compute = new EncoderCompute(spec);
        try (BufferAllocator alloc = new RootAllocator();
                TextTokenizer tok = TextTokenizer.load(TextModel.ALL_MINILM_L6_V2, 32);
                TokenBatch wide = new TokenBatch(alloc, 32, 4);
                TokenBatch narrow = new TokenBatch(alloc, 16, 4)) {
            compute.open();
            for (String s : new String[] {"A man is eating food.", "A man is eating a piece of bread."}) {
                wide.append(tok.encode(s).ids(), false);
                narrow.append(tok.encode(s).ids(), false);
            }
            BatchOutput out = compute.compute(wide);
            assertThat(out.rows()).isEqualTo(2);
            assertThat(out.dimension()).isEqualTo(384);
            assertThat(dot(out.row(0), out.row(1))).isCloseTo(CLASSIC_PAIR_COSINE, within(CLASSIC_PAIR_TOLERANCE));
            assertThat(dot(out.row(0), out.row(0))).as("L2-normalised").isCloseTo(1.0, within(1e-5));

            BatchOutput narrowOut = compute.compute(narrow);
            for (int i = 0; i < out.embeddings().length; i++) {
                assertThat((double) narrowOut.embeddings()[i]).as("element %d, padded to 32 vs 16", i)
                        .isCloseTo(out.embeddings()[i], within(PADDING_INVARIANCE_TOLERANCE));
            }
            assertThat(compute.model().version()).isEqualTo("langchain4j-1.20.0-beta30/mean/l2");
        } finally {
            compute.close();
        }
    }

    private static double dot(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d += a[i] * b[i];
        }
        return d;
    }
}
