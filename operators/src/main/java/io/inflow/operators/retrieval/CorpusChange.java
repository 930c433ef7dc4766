package io.inflow.operators.retrieval;

import io.inflow.schemas.SourcedText;

/**
 * A decoded corpus record: an upsert (the document as a text to embed, id = document id) or a delete.
 *
 * <p>{@code change.upsert() != null ? embed(change.upsert()) : index(change.delete())}
 *
 * @param upsert the document to embed; null for a delete
 * @param delete the delete; null for an upsert
 */
public record CorpusChange(SourcedText upsert, DocUpdate delete) {

    public CorpusChange {
        if ((upsert == null) == (delete == null)) {
            throw new IllegalArgumentException("a corpus change is exactly one of an upsert and a delete");
        }
    }
}
