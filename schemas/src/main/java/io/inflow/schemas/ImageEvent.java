package io.inflow.schemas;

import java.util.Map;

/**
 * An image event from topic {@code events.image}: exactly one of {@code imageBase64} (standard base64 with
 * padding) or {@code imageUri} (a {@code file:} URI) is set. Pixels are not decoded here.
 * {@code contentType} and {@code eventTime} are null when absent; {@code attributes} is never null.
 *
 * <p>{@code
 * ImageEvent e = new ImageEvent("img-7", null, "file:/data/img-7.png", "image/png", null, Map.of());
 * byte[] wire = RecordCodec.encode(e);
 * }
 */
public record ImageEvent(String id, String imageBase64, String imageUri, String contentType, Long eventTime,
                         Map<String, String> attributes) implements InputEvent {
    public ImageEvent {
        Copies.requireNonEmpty(id, "id");
        if ((imageBase64 == null) == (imageUri == null)) {
            throw new IllegalArgumentException("exactly one of imageBase64 or imageUri must be set");
        }
        if (eventTime != null) {
            Copies.requireNonNegative(eventTime, "eventTime");
        }
        attributes = Copies.attributes(attributes);
    }
}
