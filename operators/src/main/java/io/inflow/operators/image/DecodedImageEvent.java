package io.inflow.operators.image;

import io.inflow.gpu.image.DecodedImage;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.SourceRef;

import java.io.Serializable;
import java.util.Map;
import java.util.Objects;

/**
 * The outcome of decoding one image event's pixels: either the decoded image with what the enriched event needs
 * (id, attributes, source; the encoded payload is dropped), or the rejection with the raw record and the reason,
 * which {@link RouteRejectedImages} sends to the dead-letter topic.
 *
 * <p>{@code DecodedImageEvent ok = DecodedImageEvent.decoded(event.id(), event.attributes(), raw.source(), image);}
 *
 * @param rejectedRaw the original record when rejected, else null
 * @param kind why it was rejected, else null
 * @param reason the message when rejected, else null
 */
public record DecodedImageEvent(String id, Map<String, String> attributes, SourceRef source, DecodedImage image,
                                RawRecord rejectedRaw, ErrorKind kind, String reason) implements Serializable {

    public DecodedImageEvent {
        Objects.requireNonNull(source, "source");
        if ((image == null) == (rejectedRaw == null)) {
            throw new IllegalArgumentException("exactly one of image and rejectedRaw must be set");
        }
        if (rejectedRaw != null && kind == null) {
            throw new IllegalArgumentException("a rejected image needs its kind");
        }
    }

    /** A successfully decoded image. */
    public static DecodedImageEvent decoded(String id, Map<String, String> attributes, SourceRef source,
            DecodedImage image) {
        return new DecodedImageEvent(id, attributes, source, Objects.requireNonNull(image, "image"), null, null,
                null);
    }

    /** An image that cannot be decoded: it goes to the dead-letter topic with the raw record. */
    public static DecodedImageEvent rejected(RawRecord raw, ErrorKind kind, String reason) {
        return new DecodedImageEvent(null, Map.of(), raw.source(), null, raw, kind, reason);
    }

    public boolean isRejected() {
        return rejectedRaw != null;
    }

    @Override
    public String toString() {
        return isRejected() ? "DecodedImageEvent[rejected " + source + ": " + kind + "]"
                : "DecodedImageEvent[" + id + ", " + image.width() + "x" + image.height() + "x" + image.channels()
                        + ", " + source + "]";
    }
}
