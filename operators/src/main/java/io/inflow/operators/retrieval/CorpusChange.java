package io.inflow.operators.retrieval;

import io.inflow.schemas.SourcedImage;
import io.inflow.schemas.SourcedText;

/**
 * A decoded corpus record: a text upsert (the document as a text to embed, id = document id), an image upsert (the
 * document as an image event to decode and embed, id = document id) or a delete (no modality: it goes to every
 * index).
 *
 * <p>{@code change.upsert() != null ? embed(change.upsert()) : change.image() != null ? ... : index(change.delete())}
 *
 * @param upsert the text document to embed; null otherwise
 * @param delete the delete; null otherwise
 * @param image the image document to decode and embed; null otherwise
 */
public record CorpusChange(SourcedText upsert, DocUpdate delete, SourcedImage image) {

    public CorpusChange {
        int set = (upsert == null ? 0 : 1) + (delete == null ? 0 : 1) + (image == null ? 0 : 1);
        if (set != 1) {
            throw new IllegalArgumentException("a corpus change is exactly one of a text upsert, an image upsert and"
                    + " a delete");
        }
    }

    /** A text upsert or a delete. */
    public CorpusChange(SourcedText upsert, DocUpdate delete) {
        this(upsert, delete, null);
    }

    /** An image upsert. */
    public static CorpusChange image(SourcedImage image) {
        return new CorpusChange(null, null, image);
    }

    /** The document id the change is about. */
    public String docId() {
        return upsert != null ? upsert.event().id() : image != null ? image.event().id() : delete.docId();
    }
}
