package io.inflow.schemas;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Wire form of {@link EnrichedEvent}. */
final class EnrichedEventJson {
    private EnrichedEventJson() {
    }

    static void write(JsonGenerator g, EnrichedEvent e) throws IOException {
        g.writeStartObject();
        Json.writeHeader(g, WireFormat.TYPE_ENRICHED);
        g.writeStringField("id", e.id());
        g.writeStringField("input_type", e.inputType());
        Json.writeSource(g, e.source());
        Json.writeModel(g, e.model());
        Json.writeOptional(g, "token_count", e.tokenCount());
        g.writeBooleanField("truncated", e.truncated());
        Json.writeOptional(g, "embedding_dim", e.embeddingDim());
        if (e.embedding() != null) {
            g.writeArrayFieldStart("embedding");
            for (float v : e.embedding()) {
                g.writeNumber(v); // shortest text that parses back to the same float
            }
            g.writeEndArray();
        }
        Json.writeOptional(g, "embedding_f16_b64", e.embeddingF16Base64());
        if (!e.scores().isEmpty()) {
            g.writeArrayFieldStart("scores");
            for (EnrichedEvent.Score s : e.scores()) {
                g.writeStartObject();
                g.writeStringField("label", s.label());
                g.writeNumberField("score", s.score());
                g.writeEndObject();
            }
            g.writeEndArray();
        }
        Json.writeAttributes(g, e.attributes());
        g.writeNumberField("processed_at", e.processedAt());
        g.writeEndObject();
    }

    static EnrichedEvent read(JsonFields f) throws RecordRejectedException {
        String id = f.requiredNonEmptyString("id");
        String inputType = f.requiredString("input_type");
        if (!EnrichedEvent.INPUT_TEXT.equals(inputType) && !EnrichedEvent.INPUT_IMAGE.equals(inputType)) {
            throw invalid("field 'input_type' is '" + inputType + "', must be 'text' or 'image'");
        }
        SourceRef source = RefsJson.source(f);
        ModelRef model = RefsJson.model(f);
        Integer tokenCount = f.optionalInt("token_count", 0);
        if (tokenCount == null && EnrichedEvent.INPUT_TEXT.equals(inputType)) {
            throw new RecordRejectedException(ErrorKind.MISSING_FIELD,
                    "field 'token_count' is missing, it is required when input_type is 'text'");
        }
        boolean truncated = f.requiredBoolean("truncated");
        Integer dim = f.optionalInt("embedding_dim", 1);
        float[] embedding = floats(f.optionalArray("embedding"));
        String f16 = f.optionalString("embedding_f16_b64");
        if (embedding != null && f16 != null) {
            throw invalid("fields 'embedding' and 'embedding_f16_b64' are both present, at most one is allowed");
        }
        if (f16 != null) {
            FieldRules.base64("embedding_f16_b64", f16, Integer.MAX_VALUE, null);
            if (Base64Text.decodedLength(f16) % 2 != 0) {
                throw invalid("field 'embedding_f16_b64' decodes to an odd number of bytes, float16 needs 2 per value");
            }
        }
        int length = embedding != null ? embedding.length : f16 != null ? Float16.decodedLength(f16) : -1;
        if (dim != null && length >= 0 && dim != length) {
            throw invalid("field 'embedding_dim' is " + dim + " but the embedding has " + length + " values");
        }
        List<EnrichedEvent.Score> scores = scores(f, f.optionalArray("scores"));
        var attributes = f.stringMap("attributes");
        long processedAt = f.requiredLong("processed_at", 0);
        return new EnrichedEvent(id, inputType, source, model, tokenCount, truncated, dim, embedding, f16, scores,
                attributes, processedAt);
    }

    private static float[] floats(ArrayNode array) throws RecordRejectedException {
        if (array == null) {
            return null;
        }
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = array.get(i);
            if (!v.isNumber()) {
                throw invalid("field 'embedding[" + i + "]' must be a number, got " + JsonFields.typeName(v));
            }
            out[i] = Float.parseFloat(v.asText()); // parse the decimal text once: exact round trip
            if (!Float.isFinite(out[i])) {
                throw invalid("field 'embedding[" + i + "]' is " + v.asText() + ", outside the float range");
            }
        }
        return out;
    }

    private static List<EnrichedEvent.Score> scores(JsonFields f, ArrayNode array) throws RecordRejectedException {
        if (array == null) {
            return List.of();
        }
        List<EnrichedEvent.Score> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonFields s = f.element("scores", array, i);
            out.add(new EnrichedEvent.Score(s.requiredNonEmptyString("label"),
                    s.requiredFiniteDouble("score", Double.NEGATIVE_INFINITY)));
        }
        return out;
    }

    private static RecordRejectedException invalid(String message) {
        return new RecordRejectedException(ErrorKind.INVALID_FIELD, message);
    }
}
