package io.inflow.operators.image;

import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImageFormat;
import io.inflow.schemas.ErrorKind;
import io.inflow.schemas.ImageEvent;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.SourcedImage;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Flink checkpoints the images in flight in the async decode operator (envelopes with their raw record) and copies
 * decoded images between chained operators: both types must survive Flink's own serializers with every byte.
 */
class ImageRecordsSerializationTest {

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(T value) throws Exception {
        TypeSerializer<Object> serializer = (TypeSerializer<Object>) TypeInformation.of(value.getClass())
                .createSerializer(new SerializerConfigImpl());
        DataOutputSerializer out = new DataOutputSerializer(1024);
        serializer.serialize(value, out);
        T copy = (T) serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertThat(serializer.copy(value)).usingRecursiveComparison().isEqualTo(value);
        return copy;
    }

    @Test
    void envelopesInFlightKeepTheirRawRecord() throws Exception {
        byte[] value = ("{\"type\":\"image\",\"version\":1,\"id\":\"img-1\",\"image_base64\":\""
                + Base64.getEncoder().encodeToString(new byte[] {1, 2, 3}) + "\",\"attributes\":{\"k\":\"v\"}}")
                .getBytes(StandardCharsets.UTF_8);
        ImageEvent event = new InputDecoder(Limits.defaults()).decodeImage(value);
        SourcedImage original = new SourcedImage(event, new RawRecord("events.image", 1, 42, 7,
                "img-1".getBytes(StandardCharsets.UTF_8), value));
        SourcedImage copy = roundTrip(original);
        assertThat(copy.event()).isEqualTo(event);
        assertThat(copy.raw().value()).isEqualTo(value);
        assertThat(copy.raw().key()).isEqualTo(original.raw().key());
        assertThat(copy.source()).isEqualTo(original.source());
    }

    @Test
    void decodedAndRejectedImagesKeepEveryByte() throws Exception {
        byte[] px = new byte[5 * 3 * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 13);
        }
        RawRecord raw = new RawRecord("events.image", 0, 9, 1, null, new byte[] {9, 9});
        DecodedImageEvent ok = DecodedImageEvent.decoded("a", Map.of("k", "v"), raw,
                new DecodedImage(5, 3, 3, px, ImageFormat.PNG));
        DecodedImageEvent okCopy = roundTrip(ok);
        assertThat(okCopy.image().pixels()).isEqualTo(px);
        assertThat(okCopy).usingRecursiveComparison().isEqualTo(ok);
        DecodedImageEvent bad = DecodedImageEvent.rejected(raw, ErrorKind.IMAGE_CORRUPT, "truncated");
        DecodedImageEvent badCopy = roundTrip(bad);
        assertThat(badCopy.raw().value()).isEqualTo(raw.value());
        assertThat(badCopy).usingRecursiveComparison().isEqualTo(bad);
    }
}
