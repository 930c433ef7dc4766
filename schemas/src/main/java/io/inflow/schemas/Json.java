package io.inflow.schemas;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerationException;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.CharBuffer;
import java.util.Map;

/**
 * The shared, thread-safe Jackson setup. Reading: duplicate keys and trailing data are errors; the tree is built
 * by {@link TreeReader}, which keeps decimals exact (so a float is parsed once, from its digits, and round-trips
 * bit for bit). Writing: floats and doubles in their shortest round-trip form (Schubfach).
 */
final class Json {
    /**
     * Most objects and arrays open at once in a record, the record's own object included (Jackson's default, stated
     * here so that the documented limit cannot move with a Jackson upgrade). Deeper input is {@code malformed_json};
     * Inflow's records need at most 5 levels, so the limit only matters for unknown fields, which readers skip.
     */
    static final int MAX_NESTING_DEPTH = 1000;

    static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    // the record size limit bounds strings; Jackson's own 20M-char cap would only mask it
                    .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE)
                            .maxNestingDepth(MAX_NESTING_DEPTH).build())
                    .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
                    .build())
            .build();

    private Json() {
    }

    /** Body of a record writer. */
    interface Writer {
        void write(JsonGenerator g) throws IOException;
    }

    static byte[] write(Writer body) {
        try (ByteArrayBuilder out = new ByteArrayBuilder(512);
             JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
            body.write(g);
            g.flush();
            return out.toByteArray();
        } catch (JsonGenerationException e) {
            throw new IllegalArgumentException("record cannot be written as JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding to an in-memory buffer failed", e);
        }
    }

    /**
     * Checks emptiness, size and UTF-8, then parses one JSON object. The order of checks is the contract of
     * {@link InputDecoder#decode(byte[])}.
     */
    static ObjectNode parseObject(byte[] value, int maxBytes, String maxBytesKey) throws RecordRejectedException {
        if (value == null || value.length == 0) {
            throw new RecordRejectedException(ErrorKind.EMPTY_RECORD,
                    value == null ? "record value is null" : "record value is empty (0 bytes)");
        }
        if (value.length > maxBytes) {
            throw new RecordRejectedException(ErrorKind.OVERSIZE_RECORD,
                    "record is " + value.length + " bytes, limit is " + maxBytes + " (" + maxBytesKey + ")");
        }
        CharBuffer chars = Utf8.decode(value);
        JsonNode node;
        try (var parser = MAPPER.getFactory().createParser(chars.array(), chars.arrayOffset(), chars.remaining())) {
            node = TreeReader.read(parser);
            if (node != null && parser.nextToken() != null) {
                throw new RecordRejectedException(ErrorKind.MALFORMED_JSON,
                        "trailing data after the JSON object" + where(parser.currentLocation()));
            }
        } catch (JacksonException e) {
            throw new RecordRejectedException(ErrorKind.MALFORMED_JSON,
                    e.getOriginalMessage() + where(e.getLocation()), e);
        } catch (IOException e) {
            throw new RecordRejectedException(ErrorKind.MALFORMED_JSON, "unreadable JSON: " + e.getMessage(), e);
        }
        if (node == null || node.isMissingNode()) {
            throw new RecordRejectedException(ErrorKind.EMPTY_RECORD, "record value holds only whitespace");
        }
        if (!node.isObject()) {
            throw new RecordRejectedException(ErrorKind.MALFORMED_JSON,
                    "expected a JSON object, got " + JsonFields.typeName(node));
        }
        return (ObjectNode) node;
    }

    private static String where(JsonLocation location) {
        return location == null ? "" : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    static void writeHeader(JsonGenerator g, String type) throws IOException {
        g.writeStringField("type", type);
        g.writeNumberField("version", WireFormat.VERSION);
    }

    static void writeOptional(JsonGenerator g, String name, String value) throws IOException {
        if (value != null) {
            g.writeStringField(name, value);
        }
    }

    static void writeOptional(JsonGenerator g, String name, Long value) throws IOException {
        if (value != null) {
            g.writeNumberField(name, value);
        }
    }

    static void writeOptional(JsonGenerator g, String name, Integer value) throws IOException {
        if (value != null) {
            g.writeNumberField(name, value);
        }
    }

    static void writeOptional(JsonGenerator g, String name, Double value) throws IOException {
        if (value != null) {
            g.writeNumberField(name, value.doubleValue());
        }
    }

    static void writeOptional(JsonGenerator g, String name, Boolean value) throws IOException {
        if (value != null) {
            g.writeBooleanField(name, value);
        }
    }

    static void writeAttributes(JsonGenerator g, Map<String, String> attributes) throws IOException {
        if (attributes.isEmpty()) {
            return;
        }
        g.writeObjectFieldStart("attributes");
        for (Map.Entry<String, String> e : attributes.entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }

    static void writeSource(JsonGenerator g, SourceRef s) throws IOException {
        g.writeObjectFieldStart("source");
        g.writeStringField("topic", s.topic());
        g.writeNumberField("partition", s.partition());
        g.writeNumberField("offset", s.offset());
        g.writeNumberField("timestamp", s.timestamp());
        g.writeEndObject();
    }

    static void writeModel(JsonGenerator g, ModelRef m) throws IOException {
        g.writeObjectFieldStart("model");
        g.writeStringField("name", m.name());
        g.writeStringField("version", m.version());
        g.writeEndObject();
    }
}
