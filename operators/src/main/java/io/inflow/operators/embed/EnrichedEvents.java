package io.inflow.operators.embed;

import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.operators.image.DecodedImageEvent;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.Float16;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.SourcedText;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds the enriched event for one row of a computed batch.
 *
 * <pre>{@code
 * EnrichedEvent t = EnrichedEvents.text(input, batch, row, output, model, EmbeddingEncoding.FLOAT32, now);
 * // t.scores() and t.scorer() are set when the output carries a scorer's rows (BatchOutput.withScores)
 * EnrichedEvent i = EnrichedEvents.image(image, row, vitOutput, model, EmbeddingEncoding.FLOAT32, 3, now);
 * }</pre>
 */
public final class EnrichedEvents {

    /** {@code input_type} of events made from text. */
    public static final String TEXT = EnrichedEvent.INPUT_TEXT;
    /** {@code input_type} of events made from images. */
    public static final String IMAGE = EnrichedEvent.INPUT_IMAGE;

    private EnrichedEvents() {
    }

    public static EnrichedEvent text(SourcedText input, TokenBatch batch, int row, BatchOutput output,
            ModelRef model, EmbeddingEncoding encoding, long processedAtMs) {
        Embedding e = output.hasEmbeddings() ? Embedding.of(output.row(row), encoding) : Embedding.NONE;
        EnrichedEvent event = new EnrichedEvent(input.event().id(), TEXT, input.source(), model,
                batch.tokenCount(row), batch.truncated(row), e.dim, e.f32, e.f16, null, input.event().attributes(),
                processedAtMs);
        return output.scores() == null ? event
                : event.withScores(output.scores().row(row), output.scores().scorer());
    }

    /**
     * The enriched event of image {@code row}: its embedding and its {@code topK} classes by probability (highest
     * first; ties keep the class order), no token count.
     */
    public static EnrichedEvent image(DecodedImageEvent input, int row, VitOutput output, ModelRef model,
            EmbeddingEncoding encoding, int topK, long processedAtMs) {
        int d = output.dimension();
        float[] values = new float[d];
        System.arraycopy(output.embeddings(), row * d, values, 0, d);
        Embedding e = Embedding.of(values, encoding);
        return new EnrichedEvent(input.id(), IMAGE, input.source(), model, null, false, e.dim, e.f32, e.f16,
                topScores(output, row, topK), input.attributes(), processedAtMs);
    }

    /** The {@code k} most probable classes of image {@code row}, highest first (stable on ties). */
    static List<EnrichedEvent.Score> topScores(VitOutput output, int row, int k) {
        int n = output.numLabels();
        int take = Math.min(k, n);
        List<EnrichedEvent.Score> scores = new ArrayList<>(take);
        boolean[] used = new boolean[n];
        float[] p = output.probabilities();
        for (int i = 0; i < take; i++) {
            int best = -1;
            for (int c = 0; c < n; c++) {
                if (!used[c] && (best < 0 || p[row * n + c] > p[row * n + best])) {
                    best = c;
                }
            }
            used[best] = true;
            scores.add(new EnrichedEvent.Score(output.labels().get(best), p[row * n + best]));
        }
        return scores;
    }

    /** An embedding in the configured wire encoding: float32 array, float16 base64, or none. */
    private record Embedding(Integer dim, float[] f32, String f16) {
        static final Embedding NONE = new Embedding(null, null, null);

        static Embedding of(float[] values, EmbeddingEncoding encoding) {
            return switch (encoding) {
                case OMIT -> NONE;
                case FLOAT32 -> new Embedding(values.length, values, null);
                case FLOAT16_BASE64 -> new Embedding(values.length, null, Float16.encodeBase64(values));
            };
        }
    }
}
