package io.inflow.schemas;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * A corpus change from the compacted topic {@code corpus} (Kafka key = {@code doc_id}): an upsert carries the
 * document as exactly one of {@code text}, {@code imageBase64} (standard base64 with padding), {@code imageUri}
 * (a {@code file:} URI), the image fields as in {@link ImageEvent}, or {@code embedding}, a vector the user computed
 * (1 to {@value #MAX_EMBEDDING_VALUES} finite floats) together with the name of the {@code model} that made it; a
 * delete carries none of them (nor a {@code contentType} or a {@code model}). {@code contentType}, {@code embedding},
 * {@code model} and {@code eventTime} are null when absent; {@code attributes} is never null. The embedding is
 * copied on construction; do not modify the array {@link #embedding()} returns.
 *
 * <p>{@code
 * CorpusRecord put = new CorpusRecord("doc-1", CorpusRecord.Op.UPSERT, "Flink runs jobs.", Map.of(), null);
 * CorpusRecord img = CorpusRecord.imageUpsert("img-1", base64, null, "image/png", Map.of(), null);
 * CorpusRecord vec = CorpusRecord.embeddingUpsert("vec-1", vector, "all-minilm-l6-v2", Map.of(), null);
 * CorpusRecord del = new CorpusRecord("doc-1", CorpusRecord.Op.DELETE, null, Map.of(), null);
 * }
 */
public record CorpusRecord(String docId, Op op, String text, String imageBase64, String imageUri, String contentType,
                           float[] embedding, String model, Map<String, String> attributes, Long eventTime) {

    /** Most values a precomputed embedding may hold. */
    public static final int MAX_EMBEDDING_VALUES = 65_536;
    /** Longest model name, in characters. */
    public static final int MAX_MODEL_LENGTH = 128;

    /** Corpus operation; wire names {@code "upsert"} and {@code "delete"}. */
    public enum Op {
        UPSERT, DELETE;

        /** {@code "upsert"} or {@code "delete"}. */
        public String wireName() {
            return this == UPSERT ? "upsert" : "delete";
        }
    }

    public CorpusRecord {
        Copies.requireNonEmpty(docId, "docId");
        Objects.requireNonNull(op, "op");
        int forms = (text == null ? 0 : 1) + (imageBase64 == null ? 0 : 1) + (imageUri == null ? 0 : 1)
                + (embedding == null ? 0 : 1);
        if (op == Op.UPSERT && forms != 1) {
            throw new IllegalArgumentException("an upsert needs exactly one of text, imageBase64, imageUri or"
                    + " embedding (has " + forms + ")");
        }
        if (op == Op.DELETE && (forms != 0 || model != null)) {
            throw new IllegalArgumentException("a delete must not carry text, an image, an embedding or a model");
        }
        if (contentType != null && (op == Op.DELETE || text != null || embedding != null)) {
            throw new IllegalArgumentException("contentType belongs to an image upsert only");
        }
        if (embedding != null) {
            if (embedding.length == 0 || embedding.length > MAX_EMBEDDING_VALUES) {
                throw new IllegalArgumentException("embedding has " + embedding.length + " values, must have 1 to "
                        + MAX_EMBEDDING_VALUES);
            }
            for (int i = 0; i < embedding.length; i++) {
                if (!Float.isFinite(embedding[i])) {
                    throw new IllegalArgumentException("embedding[" + i + "] is " + embedding[i] + ", must be finite");
                }
            }
            embedding = embedding.clone();
            if (model == null || model.isEmpty()) {
                throw new IllegalArgumentException("an embedding upsert needs the name of the model that made it");
            }
            if (model.codePointCount(0, model.length()) > MAX_MODEL_LENGTH) {
                throw new IllegalArgumentException("model is " + model.codePointCount(0, model.length())
                        + " characters, limit is " + MAX_MODEL_LENGTH);
            }
        } else if (model != null) {
            throw new IllegalArgumentException("model belongs to an embedding upsert only");
        }
        if (eventTime != null) {
            Copies.requireNonNegative(eventTime, "eventTime");
        }
        attributes = Copies.attributes(attributes);
    }

    /** A text or image upsert, or a delete (no embedding). */
    public CorpusRecord(String docId, Op op, String text, String imageBase64, String imageUri, String contentType,
            Map<String, String> attributes, Long eventTime) {
        this(docId, op, text, imageBase64, imageUri, contentType, null, null, attributes, eventTime);
    }

    /** A text upsert ({@code text} non-null) or a delete ({@code text} null). */
    public CorpusRecord(String docId, Op op, String text, Map<String, String> attributes, Long eventTime) {
        this(docId, op, text, null, null, null, null, null, attributes, eventTime);
    }

    /** An image upsert: exactly one of {@code imageBase64} and {@code imageUri}. */
    public static CorpusRecord imageUpsert(String docId, String imageBase64, String imageUri, String contentType,
            Map<String, String> attributes, Long eventTime) {
        return new CorpusRecord(docId, Op.UPSERT, null, imageBase64, imageUri, contentType, null, null, attributes,
                eventTime);
    }

    /** An upsert of a precomputed embedding made by {@code model} (the index whose encoder has that name takes it). */
    public static CorpusRecord embeddingUpsert(String docId, float[] embedding, String model,
            Map<String, String> attributes, Long eventTime) {
        return new CorpusRecord(docId, Op.UPSERT, null, null, null, null, Objects.requireNonNull(embedding,
                "embedding"), Objects.requireNonNull(model, "model"), attributes, eventTime);
    }

    /** Whether this is an upsert of an image document. */
    public boolean isImage() {
        return imageBase64 != null || imageUri != null;
    }

    /** Whether this is an upsert of a precomputed embedding. */
    public boolean isEmbedding() {
        return embedding != null;
    }

    /** An image upsert as the image event the image decoder takes (event id = document id). */
    public ImageEvent toImageEvent() {
        if (!isImage()) {
            throw new IllegalStateException("corpus record " + docId + " is not an image upsert");
        }
        return new ImageEvent(docId, imageBase64, imageUri, contentType, eventTime, attributes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CorpusRecord r && docId.equals(r.docId) && op == r.op && Objects.equals(text, r.text)
                && Objects.equals(imageBase64, r.imageBase64) && Objects.equals(imageUri, r.imageUri)
                && Objects.equals(contentType, r.contentType) && Arrays.equals(embedding, r.embedding)
                && Objects.equals(model, r.model) && attributes.equals(r.attributes)
                && Objects.equals(eventTime, r.eventTime);
    }

    @Override
    public int hashCode() {
        return Objects.hash(docId, op, text, imageBase64, imageUri, contentType, Arrays.hashCode(embedding), model,
                attributes, eventTime);
    }

    @Override
    public String toString() {
        return "CorpusRecord[docId=" + docId + ", op=" + op + ", text=" + text + ", imageBase64="
                + (imageBase64 == null ? "null" : imageBase64.length() + " chars") + ", imageUri=" + imageUri
                + ", contentType=" + contentType + ", embedding="
                + (embedding == null ? "null" : "float[" + embedding.length + "]") + ", model=" + model
                + ", attributes=" + attributes + ", eventTime=" + eventTime + "]";
    }
}
