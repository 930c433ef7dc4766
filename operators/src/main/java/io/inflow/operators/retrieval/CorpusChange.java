package io.inflow.operators.retrieval;

import io.inflow.schemas.RawRecord;
import io.inflow.schemas.SourcedImage;
import io.inflow.schemas.SourcedText;

import java.util.Map;

/**
 * A decoded corpus record: a text upsert (the document as a text to embed, id = document id), an image upsert (the
 * document as an image event to decode and embed, id = document id), an upsert of a precomputed embedding (no
 * encoding: it goes to the index whose encoder is the named model) or a delete (no modality: it goes to every
 * index).
 *
 * <p>{@code change.upsert() != null ? embed(change.upsert()) : change.image() != null ? ... : index(change.delete())}
 *
 * @param upsert the text document to embed; null otherwise
 * @param delete the delete; null otherwise
 * @param image the image document to decode and embed; null otherwise
 * @param precomputed the document's precomputed embedding; null otherwise
 */
public record CorpusChange(SourcedText upsert, DocUpdate delete, SourcedImage image, Precomputed precomputed) {

    /**
     * An upsert of a vector the user computed.
     *
     * @param docId the document id
     * @param vector the embedding (finite floats; its dimension is checked by the index)
     * @param model the name of the model that made it: picks the index
     * @param attributes the document's attributes (the filter attribute's value is taken from them)
     * @param raw the corpus record as read
     */
    public record Precomputed(String docId, float[] vector, String model, Map<String, String> attributes,
                              RawRecord raw) {
    }

    public CorpusChange {
        int set = (upsert == null ? 0 : 1) + (delete == null ? 0 : 1) + (image == null ? 0 : 1)
                + (precomputed == null ? 0 : 1);
        if (set != 1) {
            throw new IllegalArgumentException("a corpus change is exactly one of a text upsert, an image upsert, an"
                    + " upsert of a precomputed embedding and a delete");
        }
    }

    /** An image upsert, or neither (then exactly one of the others). */
    public CorpusChange(SourcedText upsert, DocUpdate delete, SourcedImage image) {
        this(upsert, delete, image, null);
    }

    /** A text upsert or a delete. */
    public CorpusChange(SourcedText upsert, DocUpdate delete) {
        this(upsert, delete, null, null);
    }

    /** An image upsert. */
    public static CorpusChange image(SourcedImage image) {
        return new CorpusChange(null, null, image, null);
    }

    /** An upsert of a precomputed embedding. */
    public static CorpusChange precomputed(Precomputed precomputed) {
        return new CorpusChange(null, null, null, precomputed);
    }

    /** The document id the change is about. */
    public String docId() {
        return upsert != null ? upsert.event().id() : image != null ? image.event().id()
                : precomputed != null ? precomputed.docId() : delete.docId();
    }

    /** The corpus record as read. */
    public RawRecord raw() {
        return upsert != null ? upsert.raw() : image != null ? image.raw()
                : precomputed != null ? precomputed.raw() : delete.raw();
    }
}
