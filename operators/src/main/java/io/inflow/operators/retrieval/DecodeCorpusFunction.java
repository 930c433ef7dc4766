package io.inflow.operators.retrieval;

import io.inflow.operators.decode.DecodeFunction;
import io.inflow.schemas.CorpusRecord;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.RecordRejectedException;
import io.inflow.schemas.SourcedImage;
import io.inflow.schemas.SourcedText;
import io.inflow.schemas.TextEvent;

import java.nio.charset.StandardCharsets;

/**
 * Decodes and validates corpus records ({@code corpus}, compacted, Kafka key = {@code doc_id}) into
 * {@link CorpusChange}s; a record that is not a valid corpus record goes to the dead letters (see
 * {@link DecodeFunction}, {@code modality="corpus"}). Besides the JSON {@code "op":"delete"}, a Kafka tombstone (a
 * key with no value, what compaction tools write) deletes the document named by the key. The key must equal the
 * record's {@code doc_id} when both are present: compaction keeps the last record per key, so a mismatch would keep
 * the wrong one. An image document ({@code image_base64} or {@code image_uri}) becomes an image upsert whose pixels
 * are decoded later, as an image event's are; a precomputed {@code embedding} (with its {@code model}) becomes an
 * upsert that {@link SplitCorpus} hands to the index of that model, unencoded.
 *
 * <pre>{@code
 * SingleOutputStreamOperator<CorpusChange> changes = raw.process(new DecodeCorpusFunction(Limits.defaults()));
 * }</pre>
 */
public final class DecodeCorpusFunction extends DecodeFunction<CorpusChange> {

    private static final long serialVersionUID = 1L;
    /** The {@code modality} label of its metrics. */
    public static final String MODALITY = "corpus";

    public DecodeCorpusFunction(Limits limits) {
        super(limits, MODALITY);
    }

    @Override
    protected CorpusChange decode(InputDecoder decoder, RawRecord raw) throws RecordRejectedException {
        return decodeRecord(decoder, raw);
    }

    /**
     * The decoding rules of this function for one corpus record, for readers of the corpus topic outside a Flink
     * operator (the SQL {@code VECTOR_SEARCH} index follows the topic with a plain consumer).
     *
     * @throws RecordRejectedException when the record is not a valid corpus record (the reason is the message)
     */
    public static CorpusChange decodeRecord(InputDecoder decoder, RawRecord raw) throws RecordRejectedException {
        String key = raw.key() == null ? null : new String(raw.key(), StandardCharsets.UTF_8);
        if (raw.value() == null || raw.value().length == 0) {
            if (key == null || key.isEmpty()) {
                throw new RecordRejectedException(ErrorKind.MISSING_FIELD,
                        "a corpus tombstone (no value) needs the document id as its Kafka key");
            }
            return new CorpusChange(null, DocUpdate.delete(key, raw));
        }
        CorpusRecord r = decoder.decodeCorpus(raw.value());
        if (key != null && !key.equals(r.docId())) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD, "Kafka key '" + key + "' differs from doc_id '"
                    + r.docId() + "': key corpus records by their doc_id (compaction keeps the last record per key)");
        }
        if (r.op() == CorpusRecord.Op.DELETE) {
            return new CorpusChange(null, DocUpdate.delete(r.docId(), raw));
        }
        if (r.isEmbedding()) {
            return CorpusChange.precomputed(new CorpusChange.Precomputed(r.docId(), r.embedding(), r.model(),
                    r.attributes(), raw));
        }
        if (r.isImage()) {
            return CorpusChange.image(new SourcedImage(r.toImageEvent(), raw));
        }
        return new CorpusChange(new SourcedText(new TextEvent(r.docId(), r.text(), null, r.eventTime(),
                r.attributes()), raw), null);
    }
}
