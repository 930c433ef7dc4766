package io.inflow.schemas;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Base64;

/** Wire form of {@link DeadLetterRecord}; key and value bytes travel as base64 or JSON null. */
final class DeadLetterJson {
    private DeadLetterJson() {
    }

    static void write(JsonGenerator g, DeadLetterRecord r) throws IOException {
        g.writeStartObject();
        Json.writeHeader(g, WireFormat.TYPE_DEAD_LETTER);
        Json.writeSource(g, r.source());
        writeBytes(g, "key_b64", r.key());
        writeBytes(g, "value_b64", r.value());
        g.writeObjectFieldStart("error");
        g.writeStringField("kind", r.kind().wireName());
        g.writeStringField("message", r.message());
        g.writeStringField("stage", r.stage());
        g.writeEndObject();
        g.writeNumberField("failed_at", r.failedAt());
        DeadLetterRecord.Truncation t = r.truncation();
        if (t != null) {
            g.writeObjectFieldStart("truncation");
            g.writeBooleanField("truncated", true);
            if (t.keySha256() != null) {
                g.writeNumberField("key_size", t.keySize());
                g.writeStringField("key_sha256", t.keySha256());
            }
            if (t.valueSha256() != null) {
                g.writeNumberField("value_size", t.valueSize());
                g.writeStringField("value_sha256", t.valueSha256());
            }
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    private static void writeBytes(JsonGenerator g, String name, byte[] bytes) throws IOException {
        if (bytes == null) {
            g.writeNullField(name); // nullable, always present: "no key" differs from "not recorded"
        } else {
            g.writeStringField(name, Base64.getEncoder().encodeToString(bytes));
        }
    }

    static DeadLetterRecord read(JsonFields f, JsonNode root) throws RecordRejectedException {
        SourceRef source = RefsJson.source(f);
        byte[] key = bytes(f, root, "key_b64");
        byte[] value = bytes(f, root, "value_b64");
        JsonFields error = f.requiredObject("error");
        String kindName = error.requiredString("kind");
        ErrorKind kind;
        try {
            kind = ErrorKind.fromWireName(kindName);
        } catch (IllegalArgumentException e) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD, "field 'error.kind': " + e.getMessage());
        }
        String message = error.requiredString("message");
        String stage = error.requiredNonEmptyString("stage");
        long failedAt = f.requiredLong("failed_at", 0);
        return new DeadLetterRecord(source, key, value, kind, message, stage, failedAt, truncation(f));
    }

    private static byte[] bytes(JsonFields f, JsonNode root, String name) throws RecordRejectedException {
        JsonNode v = root.get(name);
        if (v == null) {
            throw new RecordRejectedException(ErrorKind.MISSING_FIELD,
                    "field '" + name + "' is missing (it is null when the Kafka record had none)");
        }
        if (v.isNull()) {
            return null;
        }
        String text = f.requiredString(name);
        String problem = Base64Text.problem(text);
        if (problem != null) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD, "field '" + name + "' is not valid base64: "
                    + problem);
        }
        return Base64.getDecoder().decode(text);
    }

    /** The optional {@code truncation} object: absent when the record holds the whole original bytes. */
    private static DeadLetterRecord.Truncation truncation(JsonFields f) throws RecordRejectedException {
        JsonFields t = f.optionalObject("truncation");
        if (t == null) {
            return null;
        }
        String keySha = t.optionalString("key_sha256");
        String valueSha = t.optionalString("value_sha256");
        if (!t.requiredBoolean("truncated")) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD, "field 'truncation.truncated' must be true"
                    + " (the object is absent when nothing was cut)");
        }
        return new DeadLetterRecord.Truncation(keySha == null ? -1 : t.requiredLong("key_size", 0), keySha,
                valueSha == null ? -1 : t.requiredLong("value_size", 0), valueSha);
    }
}
