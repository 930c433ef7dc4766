package io.inflow.schemas;

import static io.inflow.schemas.Samples.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LimitsTest {
    @Test
    void defaults() {
        assertThat(Limits.defaults()).isEqualTo(new Limits(1 << 20, 65536, 128, 64, 8 << 20));
    }

    @Test
    void everyLimitMustBePositiveAndTheMessageNamesIt() {
        assertThatThrownBy(() -> new Limits(0, 1, 1, 1, 1)).hasMessageContaining("maxRecordBytes").hasMessageContaining("0");
        assertThatThrownBy(() -> new Limits(1, -1, 1, 1, 1)).hasMessageContaining("maxTextBytes").hasMessageContaining("-1");
        assertThatThrownBy(() -> new Limits(1, 1, 0, 1, 1)).hasMessageContaining("maxIdLength");
        assertThatThrownBy(() -> new Limits(1, 1, 1, 0, 1)).hasMessageContaining("maxAttributes");
        assertThatThrownBy(() -> new Limits(1, 1, 1, 1, 0)).hasMessageContaining("maxImageBytes")
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void fromMapReadsKeysAndKeepsDefaults() {
        Limits l = Limits.fromMap(Map.of(Limits.KEY_MAX_TEXT_BYTES, "100", Limits.KEY_MAX_ATTRIBUTES, " 2 "));
        assertThat(l).isEqualTo(new Limits(1 << 20, 100, 128, 2, 8 << 20));
        assertThatThrownBy(() -> Limits.fromMap(Map.of(Limits.KEY_MAX_ID_LENGTH, "lots")))
                .hasMessageContaining(Limits.KEY_MAX_ID_LENGTH).hasMessageContaining("lots");
    }

    @Test
    void customLimitsAreHonoured() throws Exception {
        InputDecoder decoder = new InputDecoder(new Limits(200, 10, 5, 1, 3));
        // each value exactly at its limit passes ...
        assertThat(decoder.decodeText(utf8("{\"type\":\"text\",\"version\":1,\"id\":\"abcde\",\"text\":\"0123456789\","
                + "\"attributes\":{\"a\":\"b\"}}")).id()).isEqualTo("abcde");
        assertThat(decoder.decode(utf8("{\"type\":\"image\",\"version\":1,\"id\":\"i\",\"image_base64\":\"AAAA\"}")))
                .isInstanceOf(ImageEvent.class);
        // ... and one past it is rejected, naming the configuration key
        assertRejected(decoder, "{\"type\":\"text\",\"version\":1,\"id\":\"abcde\",\"text\":\"01234567890\"}",
                ErrorKind.INVALID_FIELD, "field 'text' is 11 bytes, limit is 10 (inflow.schemas.max-text-bytes)");
        assertRejected(decoder, "{\"type\":\"text\",\"version\":1,\"id\":\"abcdef\",\"text\":\"x\"}",
                ErrorKind.INVALID_FIELD, "field 'id' is 6 characters, limit is 5 (inflow.schemas.max-id-length)");
        assertRejected(decoder, "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"x\",\"attributes\":{\"a\":\"1\",\"b\":\"2\"}}",
                ErrorKind.INVALID_FIELD, "has 2 entries, limit is 1 (inflow.schemas.max-attributes)");
        assertRejected(decoder, "{\"type\":\"image\",\"version\":1,\"id\":\"i\",\"image_base64\":\"AAAAAA==\"}",
                ErrorKind.INVALID_FIELD, "decodes to 4 bytes, limit is 3 (inflow.schemas.max-image-bytes)");
        assertRejected(decoder, "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"" + "x".repeat(10) + "\"," + " ".repeat(160) + "}",
                ErrorKind.OVERSIZE_RECORD, "limit is 200 (inflow.schemas.max-record-bytes)");
    }

    @Test
    void textLimitCountsUtf8BytesNotCharacters() throws Exception {
        InputDecoder decoder = new InputDecoder(new Limits(1000, 8, 5, 1, 3));
        assertThat(decoder.decodeText(utf8("{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"\u00e9\u00e9\u00e9\u00e9\"}")).text())
                .hasSize(4); // 8 bytes
        assertRejected(decoder, "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"\u00e9\u00e9\u00e9\u00e9\u00e9\"}",
                ErrorKind.INVALID_FIELD, "is 10 bytes, limit is 8");
        // an id limit counts code points: 5 emoji are 10 chars but 5 characters
        assertThat(decoder.decodeText(utf8("{\"type\":\"text\",\"version\":1,\"id\":\"" + "\uD83C\uDF55".repeat(5)
                + "\",\"text\":\"x\"}")).id()).hasSize(10);
    }

    static void assertRejected(InputDecoder decoder, String json, ErrorKind kind, String messagePart) {
        assertThatThrownBy(() -> decoder.decode(utf8(json)))
                .isInstanceOfSatisfying(RecordRejectedException.class, e -> assertThat(e.kind()).isEqualTo(kind))
                .hasMessageContaining(messagePart);
    }
}
