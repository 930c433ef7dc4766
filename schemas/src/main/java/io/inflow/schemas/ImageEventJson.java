package io.inflow.schemas;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/** Wire form of {@link ImageEvent}. */
final class ImageEventJson {
    private ImageEventJson() {
    }

    static void write(JsonGenerator g, ImageEvent e) throws IOException {
        g.writeStartObject();
        Json.writeHeader(g, WireFormat.TYPE_IMAGE);
        g.writeStringField("id", e.id());
        Json.writeOptional(g, "image_base64", e.imageBase64());
        Json.writeOptional(g, "image_uri", e.imageUri());
        Json.writeOptional(g, "content_type", e.contentType());
        Json.writeOptional(g, "event_time", e.eventTime());
        Json.writeAttributes(g, e.attributes());
        g.writeEndObject();
    }

    static ImageEvent read(JsonFields f, Limits limits) throws RecordRejectedException {
        String id = FieldRules.id("id", f.requiredString("id"), limits);
        boolean inline = f.has("image_base64");
        boolean byUri = f.has("image_uri");
        if (inline && byUri) {
            throw new RecordRejectedException(ErrorKind.INVALID_FIELD,
                    "fields 'image_base64' and 'image_uri' are both present, exactly one is allowed");
        }
        if (!inline && !byUri) {
            throw new RecordRejectedException(ErrorKind.MISSING_FIELD,
                    "field 'image_base64' or 'image_uri' is missing, exactly one is required");
        }
        String base64 = inline ? FieldRules.base64("image_base64", f.requiredString("image_base64"),
                limits.maxImageBytes(), Limits.KEY_MAX_IMAGE_BYTES) : null;
        String uri = byUri ? FieldRules.imageUri(f.requiredString("image_uri")) : null;
        String contentType = FieldRules.contentType(f.optionalString("content_type"));
        Long eventTime = f.optionalLong("event_time", 0);
        var attributes = FieldRules.attributes(f.stringMap("attributes"), limits);
        return new ImageEvent(id, base64, uri, contentType, eventTime, attributes);
    }
}
