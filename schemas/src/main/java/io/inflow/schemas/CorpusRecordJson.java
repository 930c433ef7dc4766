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
        Json.writeOptional(g, "image_base64", r.imageBase64());
        Json.writeOptional(g, "image_uri", r.imageUri());
        Json.writeOptional(g, "content_type", r.contentType());
        if (r.embedding() != null) {
            g.writeArrayFieldStart("embedding");
            for (float v : r.embedding()) {
                g.writeNumber(v); // shortest text that parses back to the same float
            }
            g.writeEndArray();
        }
        Json.writeOptional(g, "model", r.model());
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
        boolean hasText = f.has("text");
        boolean inline = f.has("image_base64");
        boolean byUri = f.has("image_uri");
        boolean vector = f.has("embedding");
        String text = null;
        String base64 = null;
        String uri = null;
        String contentType = null;
        float[] embedding = null;
        String model = null;
        if (op == CorpusRecord.Op.UPSERT) {
            int forms = (hasText ? 1 : 0) + (inline ? 1 : 0) + (byUri ? 1 : 0) + (vector ? 1 : 0);
            if (forms > 1) {
                throw new RecordRejectedException(ErrorKind.INVALID_FIELD, "fields "
                        + present(hasText, inline, byUri, vector) + " are all present, an upsert carries exactly one"
                        + " of 'text', 'image_base64', 'image_uri' or 'embedding'");
            }
            if (f.has("model") && !vector) {
                throw new RecordRejectedException(ErrorKind.INVALID_FIELD, "field 'model' belongs to an upsert with"
                        + " an 'embedding' (the model that made it), it must be absent otherwise");
            }
            if (vector) {
                embedding = FieldRules.embedding("embedding", f.requiredArray("embedding"));
                if (!f.has("model")) {
                    throw new RecordRejectedException(ErrorKind.MISSING_FIELD, "field 'model' is missing: an upsert"
                            + " with an 'embedding' names the model that made it");
                }
                model = FieldRules.modelName(f.requiredString("model"));
                if (f.has("content_type")) {
                    throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                            "field 'content_type' must be absent on an embedding upsert");
                }
            } else if (inline || byUri) {
                base64 = inline ? FieldRules.base64("image_base64", f.requiredString("image_base64"),
                        limits.maxImageBytes(), Limits.KEY_MAX_IMAGE_BYTES) : null;
                uri = byUri ? FieldRules.imageUri(f.requiredString("image_uri")) : null;
                contentType = FieldRules.contentType(f.optionalString("content_type"));
            } else {
                // no image or embedding field: a text document (the message names 'text', as before images)
                text = FieldRules.text("text", f.requiredString("text"), limits);
                if (f.has("content_type")) {
                    throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                            "field 'content_type' must be absent on a text upsert");
                }
            }
        } else {
            for (String field : new String[] {"text", "image_base64", "image_uri", "content_type", "embedding",
                    "model"}) {
                if (f.has(field)) {
                    throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                            "field '" + field + "' must be absent when op is 'delete'");
                }
            }
        }
        var attributes = FieldRules.attributes(f.stringMap("attributes"), limits);
        Long eventTime = f.optionalLong("event_time", 0);
        return new CorpusRecord(docId, op, text, base64, uri, contentType, embedding, model, attributes, eventTime);
    }

    private static String present(boolean text, boolean inline, boolean byUri, boolean vector) {
        StringBuilder b = new StringBuilder();
        for (String[] p : new String[][] {{text ? "t" : null, "'text'"}, {inline ? "t" : null, "'image_base64'"},
                {byUri ? "t" : null, "'image_uri'"}, {vector ? "t" : null, "'embedding'"}}) {
            if (p[0] != null) {
                b.append(b.length() == 0 ? "" : " and ").append(p[1]);
            }
        }
        return b.toString();
    }
}
