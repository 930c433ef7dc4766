package io.inflow.schemas;

import java.util.Map;
import java.util.Objects;

/**
 * A corpus change from the compacted topic {@code corpus} (Kafka key = {@code doc_id}): an upsert carries the
 * document as exactly one of {@code text}, {@code imageBase64} (standard base64 with padding) or {@code imageUri}
 * (a {@code file:} URI), the image fields as in {@link ImageEvent}; a delete carries none of them (nor a
 * {@code contentType}). {@code contentType} and {@code eventTime} are null when absent; {@code attributes} is never
 * null.
 *
 * <p>{@code
 * CorpusRecord put = new CorpusRecord("doc-1", CorpusRecord.Op.UPSERT, "Flink runs jobs.", Map.of(), null);
 * CorpusRecord img = CorpusRecord.imageUpsert("img-1", base64, null, "image/png", Map.of(), null);
 * CorpusRecord del = new CorpusRecord("doc-1", CorpusRecord.Op.DELETE, null, Map.of(), null);
 * }
 */
public record CorpusRecord(String docId, Op op, String text, String imageBase64, String imageUri, String contentType,
                           Map<String, String> attributes, Long eventTime) {

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
        int forms = (text == null ? 0 : 1) + (imageBase64 == null ? 0 : 1) + (imageUri == null ? 0 : 1);
        if (op == Op.UPSERT && forms != 1) {
            throw new IllegalArgumentException("an upsert needs exactly one of text, imageBase64 or imageUri (has "
                    + forms + ")");
        }
        if (op == Op.DELETE && forms != 0) {
            throw new IllegalArgumentException("a delete must not carry text or an image");
        }
        if (contentType != null && (op == Op.DELETE || text != null)) {
            throw new IllegalArgumentException("contentType belongs to an image upsert only");
        }
        if (eventTime != null) {
            Copies.requireNonNegative(eventTime, "eventTime");
        }
        attributes = Copies.attributes(attributes);
    }

    /** A text upsert ({@code text} non-null) or a delete ({@code text} null). */
    public CorpusRecord(String docId, Op op, String text, Map<String, String> attributes, Long eventTime) {
        this(docId, op, text, null, null, null, attributes, eventTime);
    }

    /** An image upsert: exactly one of {@code imageBase64} and {@code imageUri}. */
    public static CorpusRecord imageUpsert(String docId, String imageBase64, String imageUri, String contentType,
            Map<String, String> attributes, Long eventTime) {
        return new CorpusRecord(docId, Op.UPSERT, null, imageBase64, imageUri, contentType, attributes, eventTime);
    }

    /** Whether this is an upsert of an image document. */
    public boolean isImage() {
        return imageBase64 != null || imageUri != null;
    }

    /** An image upsert as the image event the image decoder takes (event id = document id). */
    public ImageEvent toImageEvent() {
        if (!isImage()) {
            throw new IllegalStateException("corpus record " + docId + " is not an image upsert");
        }
        return new ImageEvent(docId, imageBase64, imageUri, contentType, eventTime, attributes);
    }
}
