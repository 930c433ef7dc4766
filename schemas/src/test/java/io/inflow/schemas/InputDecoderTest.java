package io.inflow.schemas;

import static io.inflow.schemas.Samples.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

/** Text events and the generic checks, one realistic bad input per {@link ErrorKind} the decoder produces. */
class InputDecoderTest {
    private final InputDecoder decoder = new InputDecoder(Limits.defaults());

    private static String text(String fields) {
        return "{\"type\":\"text\",\"version\":1," + fields + "}";
    }

    private AbstractThrowableAssert<?, ? extends Throwable> rejects(byte[] value, ErrorKind kind) {
        return assertThatThrownBy(() -> decoder.decode(value))
                .isInstanceOfSatisfying(RecordRejectedException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    private AbstractThrowableAssert<?, ? extends Throwable> rejects(String json, ErrorKind kind) {
        return rejects(utf8(json), kind);
    }

    @Test
    void decodesTheDocumentedExample() throws Exception {
        InputEvent e = decoder.decode(utf8("{\"type\":\"text\",\"version\":1,\"id\":\"msg-1\",\"text\":\"hello world\","
                + "\"lang\":\"en\",\"event_time\":1732300000000,\"attributes\":{\"k\":\"v\"}}"));
        assertThat(e).isEqualTo(new TextEvent("msg-1", "hello world", "en", 1732300000000L, Map.of("k", "v")));
    }

    @Test
    void optionalFieldsMayBeAbsentAndUnknownFieldsAreIgnored() throws Exception {
        TextEvent e = decoder.decodeText(utf8(text("\"id\":\"a\",\"text\":\"x\",\"future_field\":{\"nested\":[1,2]},"
                + "\"priority\":7")));
        assertThat(e).isEqualTo(new TextEvent("a", "x", null, null, Map.of()));
        assertThat(e.attributes()).isEmpty();
    }

    @Test
    void emptyRecord() {
        rejects((byte[]) null, ErrorKind.EMPTY_RECORD).hasMessageContaining("null");
        rejects(new byte[0], ErrorKind.EMPTY_RECORD).hasMessageContaining("empty");
        rejects(" \n\t ", ErrorKind.EMPTY_RECORD).hasMessageContaining("whitespace");
    }

    @Test
    void oversizeRecordIsCheckedBeforeAnythingElse() {
        byte[] big = new byte[2 << 20]; // 2 MB of zero bytes: not even JSON, size wins
        rejects(big, ErrorKind.OVERSIZE_RECORD)
                .hasMessage("record is 2097152 bytes, limit is 1048576 (inflow.schemas.max-record-bytes)");
        String bigJson = text("\"id\":\"a\",\"text\":\"" + "x".repeat(2 << 20) + "\"");
        rejects(bigJson, ErrorKind.OVERSIZE_RECORD);
    }

    @Test
    void invalidUtf8GivesTheByteOffset() {
        byte[] prefix = utf8(text("\"id\":\"a\",\"text\":\"caf"));
        byte[] value = new byte[prefix.length + 4];
        System.arraycopy(prefix, 0, value, 0, prefix.length);
        value[prefix.length] = (byte) 0xC3; // lead byte of a 2-byte sequence ...
        value[prefix.length + 1] = 0x28;    // ... followed by '(' instead of a continuation byte
        value[prefix.length + 2] = '"';
        value[prefix.length + 3] = '}';
        rejects(value, ErrorKind.INVALID_UTF8)
                .hasMessageStartingWith("invalid UTF-8 at byte offset " + prefix.length + ": 0xC3 0x28");
        rejects(new byte[] {'{', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '}'}, ErrorKind.INVALID_UTF8) // CESU surrogate
                .hasMessageContaining("offset 1");
        rejects(new byte[] {'{', (byte) 0xC0, (byte) 0xAF, '}'}, ErrorKind.INVALID_UTF8); // overlong '/'
        rejects(new byte[] {'{', '"', (byte) 0xE2, (byte) 0x82}, ErrorKind.INVALID_UTF8) // truncated at the end
                .hasMessageContaining("offset 2");
    }

    @Test
    void malformedJsonGivesJacksonsLocation() {
        rejects("{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"trunc", ErrorKind.MALFORMED_JSON)
                .hasMessageContaining("line 1, column");
        rejects("[{\"type\":\"text\"}]", ErrorKind.MALFORMED_JSON).hasMessageContaining("expected a JSON object, got an array");
        rejects("\"just a string\"", ErrorKind.MALFORMED_JSON).hasMessageContaining("got a string");
        rejects("{\"type\":\"text\",}", ErrorKind.MALFORMED_JSON);
        rejects("{'type':'text'}", ErrorKind.MALFORMED_JSON);
        rejects("{\"a\":NaN}", ErrorKind.MALFORMED_JSON);
        rejects("{\"a\":1} {\"b\":2}", ErrorKind.MALFORMED_JSON).hasMessageContaining("trailing");
        rejects("{\"a\":1} x", ErrorKind.MALFORMED_JSON);
        rejects("{\"a\":1,\n\"b\":2,\n\"c\"}", ErrorKind.MALFORMED_JSON).hasMessageContaining("line 3");
    }

    @Test
    void duplicateKeysAreMalformed() {
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"id\":\"b\""), ErrorKind.MALFORMED_JSON)
                .hasMessageContaining("Duplicate field 'id'");
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"attributes\":{\"k\":\"1\",\"k\":\"2\"}"), ErrorKind.MALFORMED_JSON);
    }

    @Test
    void missingType() {
        rejects("{\"version\":1,\"id\":\"a\",\"text\":\"x\"}", ErrorKind.MISSING_FIELD).hasMessage("field 'type' is missing");
        rejects("{\"type\":7,\"version\":1}", ErrorKind.INVALID_FIELD).hasMessageContaining("field 'type' must be a string");
    }

    @Test
    void unknownTypeNamesItAndTheKnownOnes() {
        rejects("{\"type\":\"audio\",\"version\":1,\"id\":\"a\"}", ErrorKind.UNKNOWN_TYPE)
                .hasMessageContaining("'audio'").hasMessageContaining("[text, image]");
        rejects("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"a\",\"op\":\"delete\"}", ErrorKind.UNKNOWN_TYPE);
        assertThatThrownBy(() -> decoder.decodeText(utf8("{\"type\":\"image\",\"version\":1,\"id\":\"a\",\"image_uri\":\"file:/x\"}")))
                .isInstanceOfSatisfying(RecordRejectedException.class, e -> assertThat(e.kind()).isEqualTo(ErrorKind.UNKNOWN_TYPE))
                .hasMessageContaining("'image'").hasMessageContaining("expected 'text'");
    }

    @Test
    void unsupportedVersion() {
        rejects("{\"type\":\"text\",\"version\":2,\"id\":\"a\",\"text\":\"x\"}", ErrorKind.UNSUPPORTED_VERSION)
                .hasMessageContaining("'version' is 2").hasMessageContaining("supports version 1");
        rejects("{\"type\":\"text\",\"version\":0,\"id\":\"a\",\"text\":\"x\"}", ErrorKind.UNSUPPORTED_VERSION);
        rejects("{\"type\":\"text\",\"id\":\"a\",\"text\":\"x\"}", ErrorKind.MISSING_FIELD).hasMessage("field 'version' is missing");
        rejects("{\"type\":\"text\",\"version\":\"1\",\"id\":\"a\",\"text\":\"x\"}", ErrorKind.INVALID_FIELD);
        rejects("{\"type\":\"text\",\"version\":1.0,\"id\":\"a\",\"text\":\"x\"}", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("must be an integer");
    }

    @Test
    void missingFields() {
        rejects(text("\"text\":\"x\""), ErrorKind.MISSING_FIELD).hasMessage("field 'id' is missing");
        rejects(text("\"id\":\"a\""), ErrorKind.MISSING_FIELD).hasMessage("field 'text' is missing");
    }

    @Test
    void wrongJsonTypesAreNotCoerced() {
        rejects(text("\"id\":42,\"text\":\"x\""), ErrorKind.INVALID_FIELD)
                .hasMessage("field 'id' must be a string, got an integer (42)");
        rejects(text("\"id\":\"a\",\"text\":[\"x\"]"), ErrorKind.INVALID_FIELD).hasMessageContaining("got an array");
        rejects(text("\"id\":null,\"text\":\"x\""), ErrorKind.INVALID_FIELD).hasMessageContaining("got null");
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"lang\":null"), ErrorKind.INVALID_FIELD);
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"event_time\":\"1732300000000\""), ErrorKind.INVALID_FIELD);
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"event_time\":1.5"), ErrorKind.INVALID_FIELD);
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"event_time\":-1"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'event_time' is -1");
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"event_time\":99999999999999999999"), ErrorKind.INVALID_FIELD);
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"attributes\":{\"k\":1}"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'attributes.k' must be a string");
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"attributes\":[]"), ErrorKind.INVALID_FIELD);
    }

    @Test
    void textOverTheByteLimitNamesSizeAndLimit() {
        rejects(text("\"id\":\"a\",\"text\":\"" + "x".repeat(70_000) + "\""), ErrorKind.INVALID_FIELD)
                .hasMessage("field 'text' is 70000 bytes, limit is 65536 (inflow.schemas.max-text-bytes)");
    }

    @Test
    void blankText() {
        rejects(text("\"id\":\"a\",\"text\":\"\""), ErrorKind.INVALID_FIELD).hasMessageContaining("'text' is empty");
        rejects(text("\"id\":\"a\",\"text\":\" \\t\\n\\u00a0\\u3000\""), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("only whitespace");
    }

    @Test
    void nestingDeeperThanTheLimitIsMalformed() throws Exception {
        // the record's object is level 1, so an unknown field may hold MAX_NESTING_DEPTH - 1 levels of arrays
        int inner = Json.MAX_NESTING_DEPTH - 1;
        String ok = text("\"id\":\"a\",\"text\":\"x\",\"future\":" + "[".repeat(inner) + "]".repeat(inner));
        assertThat(decoder.decodeText(utf8(ok)).id()).isEqualTo("a");
        String deep = text("\"id\":\"a\",\"text\":\"x\",\"future\":" + "[".repeat(inner + 1)
                + "]".repeat(inner + 1));
        rejects(deep, ErrorKind.MALFORMED_JSON).hasMessageContaining("nesting depth (1001)")
                .hasMessageContaining("maximum allowed (1000");
    }

    @Test
    void textWithoutAVisibleCharacter() {
        rejects(text("\"id\":\"a\",\"text\":\"\\u0000\\u0001\\u001b\""), ErrorKind.INVALID_FIELD)
                .hasMessage("field 'text' has no visible character (only whitespace, control and format characters"
                        + " such as U+0000), must contain text");
        rejects(text("\"id\":\"a\",\"text\":\" \\u0007\\t\\u0085\""), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("no visible character").hasMessageContaining("U+0007");
        // zero-width space, zero-width joiner, byte order mark, left-to-right mark: format characters
        rejects(text("\"id\":\"a\",\"text\":\"\\u200b\\u200d\\ufeff\\u200e\""), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("no visible character").hasMessageContaining("U+200B");
    }

    @Test
    void oneVisibleCharacterAmongInvisibleOnesIsText() throws Exception {
        for (String text : new String[] {"\\u0000x", "\\u200b\\u00e9", "\\ud83d\\ude00", "\\u0301"}) {
            assertThat(decoder.decodeText(utf8(text("\"id\":\"a\",\"text\":\"" + text + "\""))).text())
                    .as(text).isNotEmpty();
        }
    }

    @Test
    void idRules() {
        rejects(text("\"id\":\"\",\"text\":\"x\""), ErrorKind.INVALID_FIELD).hasMessageContaining("'id' is empty");
        rejects(text("\"id\":\"msg\\u0007-1\",\"text\":\"x\""), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("control character U+0007 at index 3");
        rejects(text("\"id\":\"msg\\n\",\"text\":\"x\""), ErrorKind.INVALID_FIELD);
        rejects(text("\"id\":\"" + "a".repeat(129) + "\",\"text\":\"x\""), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("129 characters, limit is 128");
        rejects(text("\"id\":\"\\ud800\",\"text\":\"x\""), ErrorKind.INVALID_FIELD).hasMessageContaining("unpaired surrogate");
    }

    @Test
    void langAndAttributeRules() throws Exception {
        assertThat(decoder.decodeText(utf8(text("\"id\":\"a\",\"text\":\"x\",\"lang\":\"zh-Hant-TW\""))).lang())
                .isEqualTo("zh-Hant-TW");
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"lang\":\"english please\""), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'lang'");
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"lang\":\"" + "en-abcdefgh".repeat(4) + "\""), ErrorKind.INVALID_FIELD);
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"attributes\":{\"\":\"v\"}"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("attribute key");
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"attributes\":{\"k\":\"" + "v".repeat(1025) + "\"}"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("1025 characters, limit is 1024");
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 65; i++) {
            many.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"v\"");
        }
        rejects(text("\"id\":\"a\",\"text\":\"x\",\"attributes\":{" + many + "}"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("65 entries, limit is 64");
    }

    @Test
    void attributesKeepWireOrder() throws Exception {
        TextEvent e = decoder.decodeText(utf8(text("\"id\":\"a\",\"text\":\"x\",\"attributes\":{\"z\":\"1\",\"a\":\"2\",\"m\":\"3\"}")));
        assertThat(e.attributes().keySet()).containsExactly("z", "a", "m");
    }

    @Test
    void oneDecoderIsSharedSafelyByThreads() throws Exception {
        byte[] good = RecordCodec.encode(Samples.text());
        byte[] bad = {(byte) 0xC3, 0x28};
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Integer>> results = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    int ok = 0;
                    for (int i = 0; i < 2000; i++) {
                        ok += decoder.decode(good).equals(Samples.text()) ? 1 : 0;
                        try {
                            decoder.decode(bad);
                        } catch (RecordRejectedException e) {
                            ok += e.kind() == ErrorKind.INVALID_UTF8 ? 1 : 0;
                        }
                    }
                    return ok;
                }));
            }
            for (var r : results) {
                assertThat(r.get()).isEqualTo(4000);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anUnpairedSurrogateIsEscapedOnWriteAndRejectedOnRead() {
        byte[] wire = RecordCodec.encode(new TextEvent("a", "x\ud800", null, null, null));
        assertThat(new String(wire, java.nio.charset.StandardCharsets.US_ASCII)).contains("\"text\":\"x\\uD800\"");
        rejects(wire, ErrorKind.INVALID_FIELD).hasMessage("field 'text' has an unpaired surrogate at char index 1");
    }

    @Test
    void decoderIsSerializable() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new InputDecoder(new Limits(10, 20, 30, 40, 50)));
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertThat(((InputDecoder) in.readObject()).limits()).isEqualTo(new Limits(10, 20, 30, 40, 50));
        }
    }
}
