package io.inflow.schemas;

import java.util.Map;
import java.util.Objects;

/**
 * A corpus change from the compacted topic {@code corpus} (Kafka key = {@code doc_id}): an upsert carries the
 * document text, a delete carries none. {@code eventTime} is null when absent; {@code attributes} is never null.
 *
 * <p>{@code
 * CorpusRecord put = new CorpusRecord("doc-1", CorpusRecord.Op.UPSERT, "Flink runs jobs.", Map.of(), null);
 * CorpusRecord del = new CorpusRecord("doc-1", CorpusRecord.Op.DELETE, null, Map.of(), null);
 * }
 */
public record CorpusRecord(String docId, Op op, String text, Map<String, String> attributes, Long eventTime) {

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
        if (op == Op.UPSERT && text == null) {
            throw new IllegalArgumentException("an upsert needs text");
        }
        if (op == Op.DELETE && text != null) {
            throw new IllegalArgumentException("a delete must not carry text");
        }
        if (eventTime != null) {
            Copies.requireNonNegative(eventTime, "eventTime");
        }
        attributes = Copies.attributes(attributes);
    }
}
