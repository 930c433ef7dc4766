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
 * (id, attributes; the encoded payload is not parsed again), or the rejection with the reason, which
 * {@link RouteRejectedImages} sends to the dead-letter topic. Both carry the raw Kafka record, so a later step that
 * rejects a decoded image (compute failure, non-finite output, output too large for the sink) can dead-letter it
 * with its original key and value bytes.
 *
 * <p>{@code DecodedImageEvent ok = DecodedImageEvent.decoded(event.id(), event.attributes(), raw, image);}
 *
 * @param raw the original Kafka record
 * @param image the decoded pixels, null when rejected
 * @param kind why it was rejected, else null
 * @param reason the message when rejected, else null
 */
public record DecodedImageEvent(String id, Map<String, String> attributes, RawRecord raw, DecodedImage image,
                                ErrorKind kind, String reason) implements Serializable {

    public DecodedImageEvent {
        Objects.requireNonNull(raw, "raw");
        if ((image == null) == (kind == null)) {
            throw new IllegalArgumentException("exactly one of image and kind must be set");
        }
    }

    /** A successfully decoded image. */
    public static DecodedImageEvent decoded(String id, Map<String, String> attributes, RawRecord raw,
            DecodedImage image) {
        return new DecodedImageEvent(id, attributes, raw, Objects.requireNonNull(image, "image"), null, null);
    }

    /** An image that cannot be decoded: it goes to the dead-letter topic with the raw record. */
    public static DecodedImageEvent rejected(RawRecord raw, ErrorKind kind, String reason) {
        return new DecodedImageEvent(null, Map.of(), raw, null, Objects.requireNonNull(kind, "kind"), reason);
    }

    public boolean isRejected() {
        return image == null;
    }

    /** The Kafka coordinates that travel on into the enriched or dead-letter record. */
    public SourceRef source() {
        return raw.source();
    }

    @Override
    public String toString() {
        return isRejected() ? "DecodedImageEvent[rejected " + source() + ": " + kind + "]"
                : "DecodedImageEvent[" + id + ", " + image.width() + "x" + image.height() + "x" + image.channels()
                        + ", " + source() + "]";
    }
}
