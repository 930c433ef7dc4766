package io.inflow.operators.tokenize;

import io.inflow.schemas.RawRecord;
import io.inflow.schemas.SourceRef;
import io.inflow.schemas.SourcedText;
import io.inflow.schemas.TextEvent;
import io.inflow.schemas.InputDecoder;
import io.inflow.schemas.Limits;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Flink checkpoints the texts in flight in the async tokenize operator and ships records between subtasks: the
 * types must survive Flink's own serializers, including the attribute maps the decoder builds.
 */
class TokenizedTextSerializationTest {

    @Test
    void decodedEventsRoundTripThroughFlinkSerializers() throws Exception {
        TextEvent event = new InputDecoder(Limits.defaults()).decodeText(("{\"type\":\"text\",\"version\":1,"
                + "\"id\":\"e-1\",\"text\":\"Grüße 👋\",\"lang\":\"de\",\"event_time\":5,"
                + "\"attributes\":{\"source\":\"test\",\"k\":\"v\"}}").getBytes(StandardCharsets.UTF_8));
        TokenizedText original = new TokenizedText(new SourcedText(event, new RawRecord("events.text", 3, 77, 12, null,
                new byte[] {1, 2})),
                new int[] {101, 7, 102}, true);

        for (Object value : new Object[] {original, original.input()}) {
            @SuppressWarnings("unchecked")
            TypeSerializer<Object> serializer = (TypeSerializer<Object>) TypeInformation.of(value.getClass())
                    .createSerializer(new SerializerConfigImpl());
            DataOutputSerializer out = new DataOutputSerializer(256);
            serializer.serialize(value, out);
            Object copy = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            assertThat(copy).as(value.getClass().getSimpleName()).isEqualTo(value);
            assertThat(serializer.copy(value)).isEqualTo(value);
        }
    }
}
