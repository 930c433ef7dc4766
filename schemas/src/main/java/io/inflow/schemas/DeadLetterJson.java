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
        return new DeadLetterRecord(source, key, value, kind, message, stage, failedAt);
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
}
