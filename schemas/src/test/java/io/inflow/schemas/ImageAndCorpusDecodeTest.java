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
                .hasMessageContaining("exactly one of 'text', 'image_base64', 'image_uri' or 'embedding'");
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

    @Test
    void corpusEmbeddingUpserts() throws Exception {
        CorpusRecord r = decoder.decodeCorpus(utf8("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\","
                + "\"op\":\"upsert\",\"embedding\":[0.25,-1,3e-2,1e-50,3.4028235e38],\"model\":\"all-minilm-l6-v2\","
                + "\"attributes\":{\"tenant\":\"a\"}}"));
        assertThat(r).isEqualTo(CorpusRecord.embeddingUpsert("d", new float[] {0.25f, -1f, 0.03f, 0f, Float.MAX_VALUE},
                "all-minilm-l6-v2", Map.of("tenant", "a"), null));
        assertThat(r.isEmbedding()).isTrue();
        assertThat(r.text()).isNull();
        assertThat(r.toString()).contains("embedding=float[5]", "model=all-minilm-l6-v2");
        // the record copies the array it is given
        float[] v = {1f, 2f};
        CorpusRecord copy = CorpusRecord.embeddingUpsert("d", v, "m", Map.of(), null);
        v[0] = 9f;
        assertThat(copy.embedding()).containsExactly(1f, 2f);
    }

    @Test
    void corpusEmbeddingRules() {
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[0.5]", ErrorKind.MISSING_FIELD)
                .hasMessageContaining("field 'model' is missing");
        rejectsCorpus(",\"op\":\"upsert\",\"text\":\"x\",\"model\":\"m\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("field 'model' belongs to an upsert with an 'embedding'");
        rejectsCorpus(",\"op\":\"upsert\",\"text\":\"x\",\"embedding\":[0.5],\"model\":\"m\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("fields 'text' and 'embedding' are all present");
        rejectsCorpus(",\"op\":\"upsert\",\"image_uri\":\"file:/a\",\"embedding\":[0.5],\"model\":\"m\"",
                ErrorKind.INVALID_FIELD).hasMessageContaining("exactly one of 'text', 'image_base64', 'image_uri' or 'embedding'");
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[],\"model\":\"m\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("field 'embedding' has 0 values, must have 1 to 65536");
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[0.5,\"1\"],\"model\":\"m\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("field 'embedding[1]' must be a number, got a string");
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[0.5,null],\"model\":\"m\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("field 'embedding[1]' must be a number, got null");
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":{\"a\":1},\"model\":\"m\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("field 'embedding' must be an array");
        // no NaN or Infinity in JSON, but a number beyond the float range would become one
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[0.5,1e39],\"model\":\"m\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("field 'embedding[1]' is 1E+39, outside the float range");
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[-3.5e38],\"model\":\"m\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("outside the float range");
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[1" + "0".repeat(40) + "],\"model\":\"m\"",
                ErrorKind.INVALID_FIELD).hasMessageContaining("outside the float range");
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[NaN],\"model\":\"m\"", ErrorKind.MALFORMED_JSON);
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[0.5],\"model\":\"\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("field 'model' is empty");
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[0.5],\"model\":\"" + "m".repeat(129) + "\"",
                ErrorKind.INVALID_FIELD).hasMessageContaining("field 'model' is 129 characters, limit is 128");
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[0.5],\"model\":\"a\\u0001\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("control character");
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[0.5],\"model\":7", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("field 'model' must be a string");
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[0.5],\"model\":\"m\",\"content_type\":\"image/png\"",
                ErrorKind.INVALID_FIELD).hasMessageContaining("'content_type' must be absent on an embedding upsert");
        rejectsCorpus(",\"op\":\"delete\",\"embedding\":[0.5],\"model\":\"m\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("field 'embedding' must be absent when op is 'delete'");
        rejectsCorpus(",\"op\":\"delete\",\"model\":\"m\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("field 'model' must be absent when op is 'delete'");
        StringBuilder big = new StringBuilder();
        for (int i = 0; i <= CorpusRecord.MAX_EMBEDDING_VALUES; i++) {
            big.append(i == 0 ? "" : ",").append('0');
        }
        rejectsCorpus(",\"op\":\"upsert\",\"embedding\":[" + big + "],\"model\":\"m\"", ErrorKind.INVALID_FIELD)
                .hasMessageContaining("has 65537 values, must have 1 to 65536");

        // the constructor keeps the same rules
        assertThatThrownBy(() -> CorpusRecord.embeddingUpsert("d", new float[0], "m", Map.of(), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 values");
        assertThatThrownBy(() -> CorpusRecord.embeddingUpsert("d", new float[] {Float.NaN}, "m", Map.of(), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("embedding[0] is NaN");
        assertThatThrownBy(() -> CorpusRecord.embeddingUpsert("d", new float[] {1f, Float.POSITIVE_INFINITY}, "m",
                Map.of(), null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("embedding[1]");
        assertThatThrownBy(() -> CorpusRecord.embeddingUpsert("d", new float[CorpusRecord.MAX_EMBEDDING_VALUES + 1],
                "m", Map.of(), null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CorpusRecord.embeddingUpsert("d", new float[] {1f}, "", Map.of(), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name of the model");
        assertThatThrownBy(() -> new CorpusRecord("d", CorpusRecord.Op.UPSERT, "t", null, null, null, null, "m",
                Map.of(), null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("model belongs");
        assertThatThrownBy(() -> new CorpusRecord("d", CorpusRecord.Op.UPSERT, "t", null, null, null,
                new float[] {1f}, "m", Map.of(), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exactly one");
        assertThatThrownBy(() -> new CorpusRecord("d", CorpusRecord.Op.DELETE, null, null, null, null,
                new float[] {1f}, "m", Map.of(), null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CorpusRecord("d", CorpusRecord.Op.UPSERT, null, null, null, "image/png",
                new float[] {1f}, "m", Map.of(), null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("contentType");
    }
}
