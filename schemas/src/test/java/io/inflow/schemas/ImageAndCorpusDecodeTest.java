package io.inflow.schemas;

import static io.inflow.schemas.Samples.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class ImageAndCorpusDecodeTest {
    private final InputDecoder decoder = new InputDecoder(Limits.defaults());

    private static AbstractThrowableAssert<?, ? extends Throwable> rejects(ThrowingCallable call, ErrorKind kind) {
        return assertThatThrownBy(call)
                .isInstanceOfSatisfying(RecordRejectedException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    private AbstractThrowableAssert<?, ? extends Throwable> rejectsImage(String fields, ErrorKind kind) {
        return rejects(() -> decoder.decode(utf8("{\"type\":\"image\",\"version\":1,\"id\":\"img-1\"" + fields + "}")), kind);
    }

    private AbstractThrowableAssert<?, ? extends Throwable> rejectsCorpus(String fields, ErrorKind kind) {
        return rejects(() -> decoder.decodeCorpus(utf8("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"doc-1\"" + fields + "}")), kind);
    }

    @Test
    void imageByUriOrInline() throws Exception {
        assertThat(decoder.decode(utf8("{\"type\":\"image\",\"version\":1,\"id\":\"i\",\"image_uri\":\"file:/data/a.png\","
                + "\"content_type\":\"image/png\",\"event_time\":5}")))
                .isEqualTo(new ImageEvent("i", null, "file:/data/a.png", "image/png", 5L, Map.of()));
        assertThat(decoder.decodeImage(utf8("{\"type\":\"image\",\"version\":1,\"id\":\"i\",\"image_base64\":\"iVBORw0KGgo=\"}")))
                .isEqualTo(new ImageEvent("i", "iVBORw0KGgo=", null, null, null, Map.of()));
    }

    @Test
    void imageNeedsExactlyOneSource() {
        rejectsImage(",\"image_base64\":\"AAAA\",\"image_uri\":\"file:/a\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("both present");
        rejectsImage("", ErrorKind.MISSING_FIELD).hasMessageContaining("'image_base64' or 'image_uri'");
    }

    @Test
    void imageFieldRules() {
        rejectsImage(",\"image_uri\":\"http://example.com/a.png\"", ErrorKind.INVALID_FIELD).hasMessageContaining("file: URI");
        rejectsImage(",\"image_uri\":\"file:\"", ErrorKind.INVALID_FIELD);
        rejectsImage(",\"image_base64\":\"iVBORw0KGgo\"", ErrorKind.INVALID_FIELD).hasMessageContaining("multiple of 4");
        rejectsImage(",\"image_base64\":\"iVB Rw0K\"", ErrorKind.INVALID_FIELD).hasMessageContaining("' ' at index 3");
        rejectsImage(",\"image_base64\":\"iVBORw0K-_8=\"", ErrorKind.INVALID_FIELD).hasMessageContaining("'-'"); // url-safe alphabet
        rejectsImage(",\"image_base64\":\"iV=ORw0K\"", ErrorKind.INVALID_FIELD);
        rejectsImage(",\"image_base64\":\"\"", ErrorKind.INVALID_FIELD).hasMessageContaining("empty");
        rejectsImage(",\"image_base64\":12", ErrorKind.INVALID_FIELD);
        rejectsImage(",\"image_uri\":\"file:/a\",\"content_type\":\"png\"", ErrorKind.INVALID_FIELD).hasMessageContaining("media type");
        rejectsImage(",\"image_uri\":\"file:/a\",\"attributes\":{\"k\":true}", ErrorKind.INVALID_FIELD);
    }

    @Test
    void imageOverTheDecodedLimit() {
        InputDecoder small = new InputDecoder(new Limits(1 << 20, 100, 128, 64, 1000));
        String b64 = java.util.Base64.getEncoder().encodeToString(new byte[1001]);
        rejects(() -> small.decode(utf8("{\"type\":\"image\",\"version\":1,\"id\":\"i\",\"image_base64\":\"" + b64 + "\"}")),
                ErrorKind.INVALID_FIELD).hasMessageContaining("decodes to 1001 bytes, limit is 1000 (inflow.schemas.max-image-bytes)");
    }

    @Test
    void corpusUpsertAndDelete() throws Exception {
        assertThat(decoder.decodeCorpus(utf8("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"text\":\"t\"}")))
                .isEqualTo(new CorpusRecord("d", CorpusRecord.Op.UPSERT, "t", Map.of(), null));
        assertThat(decoder.decodeCorpus(utf8("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"delete\",\"event_time\":3}")))
                .isEqualTo(new CorpusRecord("d", CorpusRecord.Op.DELETE, null, Map.of(), 3L));
    }

    @Test
    void corpusImageUpserts() throws Exception {
        assertThat(decoder.decodeCorpus(utf8("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\","
                + "\"image_base64\":\"AAAA\",\"content_type\":\"image/png\",\"attributes\":{\"k\":\"v\"}}")))
                .isEqualTo(CorpusRecord.imageUpsert("d", "AAAA", null, "image/png", Map.of("k", "v"), null));
        CorpusRecord byUri = decoder.decodeCorpus(utf8("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\","
                + "\"op\":\"upsert\",\"image_uri\":\"file:/data/a.png\",\"event_time\":5}"));
        assertThat(byUri.isImage()).isTrue();
        assertThat(byUri.toImageEvent()).isEqualTo(new ImageEvent("d", null, "file:/data/a.png", null, 5L, Map.of()));
        assertThat(new CorpusRecord("d", CorpusRecord.Op.UPSERT, "t", Map.of(), null).isImage()).isFalse();
    }

    @Test
    void corpusImageRules() {
        rejectsCorpus(",\"op\":\"upsert\",\"text\":\"x\",\"image_base64\":\"AAAA\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("exactly one of 'text', 'image_base64' or 'image_uri'");
        rejectsCorpus(",\"op\":\"upsert\",\"image_uri\":\"file:/a\",\"image_base64\":\"AAAA\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'image_base64' and 'image_uri'");
        rejectsCorpus(",\"op\":\"delete\",\"image_uri\":\"file:/a\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'image_uri' must be absent when op is 'delete'");
        rejectsCorpus(",\"op\":\"upsert\",\"text\":\"x\",\"content_type\":\"image/png\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'content_type' must be absent on a text upsert");
        rejectsCorpus(",\"op\":\"upsert\",\"image_uri\":\"https://x/y.png\"", ErrorKind.INVALID_FIELD);
        rejectsCorpus(",\"op\":\"upsert\",\"image_base64\":\"ab$d\"", ErrorKind.INVALID_FIELD);
        InputDecoder small = new InputDecoder(new Limits(1 << 20, 100, 128, 64, 1000));
        String b64 = java.util.Base64.getEncoder().encodeToString(new byte[1001]);
        rejects(() -> small.decodeCorpus(utf8("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\","
                + "\"image_base64\":\"" + b64 + "\"}")), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("decodes to 1001 bytes, limit is 1000 (inflow.schemas.max-image-bytes)");
        assertThatThrownBy(() -> new CorpusRecord("d", CorpusRecord.Op.UPSERT, "t", "AAAA", null, null, Map.of(), null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CorpusRecord("d", CorpusRecord.Op.UPSERT, null, Map.of(), null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void corpusRules() {
        rejectsCorpus(",\"op\":\"delete\",\"text\":\"leftover\"", ErrorKind.INVALID_FIELD).hasMessageContaining("absent when op is 'delete'");
        rejectsCorpus(",\"op\":\"upsert\"", ErrorKind.MISSING_FIELD).hasMessage("field 'text' is missing");
        rejectsCorpus(",\"op\":\"UPSERT\",\"text\":\"x\"", ErrorKind.INVALID_FIELD).hasMessageContaining("'upsert' or 'delete'");
        rejectsCorpus(",\"text\":\"x\"", ErrorKind.MISSING_FIELD).hasMessage("field 'op' is missing");
        rejectsCorpus(",\"op\":\"upsert\",\"text\":\"   \"", ErrorKind.INVALID_FIELD);
        rejects(() -> decoder.decodeCorpus(utf8("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"\",\"op\":\"delete\"}")),
                ErrorKind.INVALID_FIELD).hasMessageContaining("'doc_id' is empty");
        rejects(() -> decoder.decodeCorpus(utf8("{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"x\"}")),
                ErrorKind.UNKNOWN_TYPE).hasMessageContaining("expected 'corpus'");
        rejects(() -> decoder.decodeCorpus(utf8("{\"type\":\"corpus\",\"version\":3,\"doc_id\":\"d\",\"op\":\"delete\"}")),
                ErrorKind.UNSUPPORTED_VERSION);
    }
}
