package io.inflow.schemas;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/** Wire form of {@link TextEvent}. */
final class TextEventJson {
    private TextEventJson() {
    }

    static void write(JsonGenerator g, TextEvent e) throws IOException {
        g.writeStartObject();
        Json.writeHeader(g, WireFormat.TYPE_TEXT);
        g.writeStringField("id", e.id());
        g.writeStringField("text", e.text());
        Json.writeOptional(g, "lang", e.lang());
        Json.writeOptional(g, "event_time", e.eventTime());
        Json.writeAttributes(g, e.attributes());
        g.writeEndObject();
    }

    /** Reads the body of a record whose envelope was checked. */
    static TextEvent read(JsonFields f, Limits limits) throws RecordRejectedException {
        String id = FieldRules.id("id", f.requiredString("id"), limits);
        String text = FieldRules.text("text", f.requiredString("text"), limits);
        String lang = FieldRules.lang(f.optionalString("lang"));
        Long eventTime = f.optionalLong("event_time", 0);
        var attributes = FieldRules.attributes(f.stringMap("attributes"), limits);
        return new TextEvent(id, text, lang, eventTime, attributes);
    }
}
