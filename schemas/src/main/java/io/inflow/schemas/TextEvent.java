package io.inflow.schemas;

import java.util.Map;
import java.util.Objects;

/**
 * A text event from topic {@code events.text}:
 * {@code {"type":"text","version":1,"id":"msg-1","text":"...","lang":"en","event_time":1732300000000,"attributes":{"k":"v"}}}.
 * {@code lang} and {@code eventTime} are null when absent; {@code attributes} is never null. The constructor
 * checks structure only; {@link InputDecoder} applies the {@link Limits}.
 *
 * <p>{@code
 * TextEvent e = new TextEvent("msg-1", "A man is eating food.", "en", 1732300000000L, Map.of());
 * byte[] wire = RecordCodec.encode(e);
 * }
 */
public record TextEvent(String id, String text, String lang, Long eventTime, Map<String, String> attributes)
        implements InputEvent {
    public TextEvent {
        Copies.requireNonEmpty(id, "id");
        Objects.requireNonNull(text, "text");
        if (eventTime != null) {
            Copies.requireNonNegative(eventTime, "eventTime");
        }
        attributes = Copies.attributes(attributes);
    }
}
