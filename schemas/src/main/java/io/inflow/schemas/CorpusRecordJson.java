package io.inflow.schemas;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/** Wire form of {@link CorpusRecord}. */
final class CorpusRecordJson {
    private CorpusRecordJson() {
    }

    static void write(JsonGenerator g, CorpusRecord r) throws IOException {
        g.writeStartObject();
        Json.writeHeader(g, WireFormat.TYPE_CORPUS);
        g.writeStringField("doc_id", r.docId());
        g.writeStringField("op", r.op().wireName());
        Json.writeOptional(g, "text", r.text());
        Json.writeAttributes(g, r.attributes());
        Json.writeOptional(g, "event_time", r.eventTime());
        g.writeEndObject();
    }

    static CorpusRecord read(JsonFields f, Limits limits) throws RecordRejectedException {
        String docId = FieldRules.id("doc_id", f.requiredString("doc_id"), limits);
        String opName = f.requiredString("op");
        CorpusRecord.Op op = switch (opName) {
            case "upsert" -> CorpusRecord.Op.UPSERT;
            case "delete" -> CorpusRecord.Op.DELETE;
            default -> throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                    "field 'op' is '" + opName + "', must be 'upsert' or 'delete'");
        };
        String text = null;
        if (op == CorpusRecord.Op.UPSERT) {
            text = FieldRules.text("text", f.requiredString("text"), limits);
        } else if (f.has("text")) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                    "field 'text' must be absent when op is 'delete'");
        }
        var attributes = FieldRules.attributes(f.stringMap("attributes"), limits);
        Long eventTime = f.optionalLong("event_time", 0);
        return new CorpusRecord(docId, op, text, attributes, eventTime);
    }
}
