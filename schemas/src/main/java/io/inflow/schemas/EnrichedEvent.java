package io.inflow.schemas;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An enriched event on topic {@code enriched}: the input's id and attributes, where it came from, which model
 * ran, and the results. Optional components are null when absent ({@code tokenCount}, {@code embeddingDim},
 * {@code embedding}, {@code embeddingF16Base64}); {@code scores} and {@code attributes} are never null and are
 * omitted on the wire when empty. At most one of {@code embedding} (float32) and {@code embeddingF16Base64}
 * (little-endian float16, see {@link Float16}) is set; when {@code embeddingDim} is set it equals the
 * embedding's length. The {@code embedding} array is not copied: do not modify it after construction.
 * {@code equals} and {@code hashCode} compare the array by content.
 *
 * <p>{@code
 * EnrichedEvent out = new EnrichedEvent(in.id(), "text", source, new ModelRef("all-minilm-l6-v2", "1"),
 *         12, false, 384, vector, null, List.of(), in.attributes(), System.currentTimeMillis());
 * byte[] wire = RecordCodec.encode(out);
 * }
 *
 * <p>New optional components are added here (and in the schema, README and codec) without a version bump;
 * readers of version 1 ignore fields they do not know.
 */
public record EnrichedEvent(String id, String inputType, SourceRef source, ModelRef model, Integer tokenCount,
                            boolean truncated, Integer embeddingDim, float[] embedding, String embeddingF16Base64,
                            List<Score> scores, Map<String, String> attributes, long processedAt) {

    /** {@code inputType} of an event that came from a {@link TextEvent}. */
    public static final String INPUT_TEXT = "text";
    /** {@code inputType} of an event that came from an {@link ImageEvent}. */
    public static final String INPUT_IMAGE = "image";

    /**
     * One class score, e.g. from an image classifier: {@code {"label":"sneaker","score":0.93}}.
     * The score must be finite.
     */
    public record Score(String label, double score) {
        public Score {
            Copies.requireNonEmpty(label, "label");
            if (!Double.isFinite(score)) {
                throw new IllegalArgumentException("score of '" + label + "' must be finite (got " + score + ")");
            }
        }
    }

    public EnrichedEvent {
        Copies.requireNonEmpty(id, "id");
        if (!INPUT_TEXT.equals(inputType) && !INPUT_IMAGE.equals(inputType)) {
            throw new IllegalArgumentException("inputType must be 'text' or 'image' (got '" + inputType + "')");
        }
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(model, "model");
        if (INPUT_TEXT.equals(inputType) && tokenCount == null) {
            throw new IllegalArgumentException("tokenCount is required for text input");
        }
        if (tokenCount != null) {
            Copies.requireNonNegative(tokenCount, "tokenCount");
        }
        if (embedding != null && embeddingF16Base64 != null) {
            throw new IllegalArgumentException("set at most one of embedding and embeddingF16Base64");
        }
        if (embedding != null) {
            for (int i = 0; i < embedding.length; i++) {
                if (!Float.isFinite(embedding[i])) {
                    throw new IllegalArgumentException("embedding[" + i + "] is " + embedding[i] + ", must be finite");
                }
            }
        }
        if (embeddingDim != null) {
            if (embeddingDim <= 0) {
                throw new IllegalArgumentException("embeddingDim must be > 0 (got " + embeddingDim + ")");
            }
            int length = embedding != null ? embedding.length
                    : embeddingF16Base64 != null ? Float16.decodedLength(embeddingF16Base64) : embeddingDim;
            if (length != embeddingDim) {
                throw new IllegalArgumentException(
                        "embeddingDim is " + embeddingDim + " but the embedding has " + length + " values");
            }
        }
        Copies.requireNonNegative(processedAt, "processedAt");
        scores = Copies.list(scores);
        attributes = Copies.attributes(attributes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EnrichedEvent e
                && id.equals(e.id) && inputType.equals(e.inputType) && source.equals(e.source)
                && model.equals(e.model) && Objects.equals(tokenCount, e.tokenCount) && truncated == e.truncated
                && Objects.equals(embeddingDim, e.embeddingDim) && Arrays.equals(embedding, e.embedding)
                && Objects.equals(embeddingF16Base64, e.embeddingF16Base64) && scores.equals(e.scores)
                && attributes.equals(e.attributes) && processedAt == e.processedAt;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, inputType, source, model, tokenCount, truncated, embeddingDim,
                Arrays.hashCode(embedding), embeddingF16Base64, scores, attributes, processedAt);
    }

    @Override
    public String toString() {
        return "EnrichedEvent[id=" + id + ", inputType=" + inputType + ", source=" + source + ", model=" + model
                + ", tokenCount=" + tokenCount + ", truncated=" + truncated + ", embeddingDim=" + embeddingDim
                + ", embedding=" + (embedding == null ? "null" : "float[" + embedding.length + "]")
                + ", embeddingF16Base64=" + (embeddingF16Base64 == null ? "null" : embeddingF16Base64.length() + " chars")
                + ", scores=" + scores + ", attributes=" + attributes + ", processedAt=" + processedAt + "]";
    }
}
