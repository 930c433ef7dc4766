package io.inflow.schemas;

import static io.inflow.schemas.Samples.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** The decoders of output records reject bad input with RecordRejectedException, never an unchecked exception. */
class OutputRecordDecodeTest {

    private static AbstractThrowableAssert<?, ? extends Throwable> rejects(ThrowingCallable call, ErrorKind kind) {
        return assertThatThrownBy(call)
                .isInstanceOfSatisfying(RecordRejectedException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    private static String wire(Object record) {
        byte[] bytes = record instanceof EnrichedEvent e ? RecordCodec.encode(e)
                : record instanceof DeadLetterRecord d ? RecordCodec.encode(d)
                : RecordCodec.encode((TopicTreeRecord) record);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> enriched(String json, ErrorKind kind) {
        return rejects(() -> RecordCodec.decodeEnriched(utf8(json)), kind);
    }

    @Test
    void enrichedRules() {
        String ok = wire(Samples.enrichedText());
        enriched(ok.replace("\"token_count\":12,", ""), ErrorKind.MISSING_FIELD).hasMessageContaining("'token_count'");
        enriched(ok.replace("\"embedding_dim\":12", "\"embedding_dim\":384"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'embedding_dim' is 384 but the embedding has 12 values");
        enriched(ok.replace("\"embedding\":[", "\"embedding_f16_b64\":\"AAAA\",\"embedding\":["), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("both present");
        enriched(ok.replace("\"embedding\":[0.1,", "\"embedding\":[\"0.1\","), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'embedding[0]'");
        enriched(ok.replace("\"embedding\":[0.1,", "\"embedding\":[1e39,"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("outside the float range");
        enriched(ok.replace("\"input_type\":\"text\"", "\"input_type\":\"audio\""), ErrorKind.INVALID_FIELD);
        enriched(ok.replace("\"partition\":3", "\"partition\":-3"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'source.partition' is -3");
        enriched(ok.replace("\"truncated\":false", "\"truncated\":\"false\""), ErrorKind.INVALID_FIELD);
        enriched(ok.replace("\"model\":{\"name\":\"all-minilm-l6-v2\",", "\"model\":{"), ErrorKind.MISSING_FIELD)
                .hasMessage("field 'model.name' is missing");
        enriched(ok.replace("\"type\":\"enriched\"", "\"type\":\"text\""), ErrorKind.UNKNOWN_TYPE);
        enriched(ok.replace("\"version\":1", "\"version\":2"), ErrorKind.UNSUPPORTED_VERSION);
        enriched("{\"type\":\"enriched\"", ErrorKind.MALFORMED_JSON);
        String image = wire(Samples.enrichedImage());
        enriched(image.replace("\"embedding_dim\":4", "\"embedding_dim\":5"), ErrorKind.INVALID_FIELD);
        enriched(image.replaceAll("\"embedding_f16_b64\":\"[^\"]*\"", "\"embedding_f16_b64\":\"AA==\""), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("odd number of bytes");
        enriched(image.replace("\"label\":\"sneaker\"", "\"label\":\"\""), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'scores[0].label'");
        enriched(image.replace("\"score\":0.93", "\"score\":null"), ErrorKind.INVALID_FIELD);
    }

    @Test
    void enrichedIgnoresUnknownFields() throws Exception {
        String ok = wire(Samples.enrichedImage());
        String withExtra = ok.replace("\"truncated\":false", "\"truncated\":false,\"latency_ms\":12.5,\"spans\":[]");
        assertThat(RecordCodec.decodeEnriched(utf8(withExtra))).isEqualTo(Samples.enrichedImage());
    }

    @Test
    void deadLetterRules() {
        String ok = wire(Samples.deadLetter());
        rejects(() -> RecordCodec.decodeDeadLetter(utf8(ok.replace("\"kind\":\"invalid_utf8\"", "\"kind\":\"INVALID_UTF8\""))),
                ErrorKind.INVALID_FIELD).hasMessageContaining("error.kind");
        rejects(() -> RecordCodec.decodeDeadLetter(utf8(ok.replaceAll("\"key_b64\":\"[^\"]*\",", ""))),
                ErrorKind.MISSING_FIELD).hasMessageContaining("'key_b64'");
        rejects(() -> RecordCodec.decodeDeadLetter(utf8(ok.replaceAll("\"value_b64\":\"[^\"]*\"", "\"value_b64\":\"w(\""))),
                ErrorKind.INVALID_FIELD);
        rejects(() -> RecordCodec.decodeDeadLetter(utf8(ok.replace("\"stage\":\"decode\"", "\"stage\":\"\""))),
                ErrorKind.INVALID_FIELD);
        rejects(() -> RecordCodec.decodeDeadLetter(utf8(ok.replace("\"failed_at\":1732300002000", "\"failed_at\":-5"))),
                ErrorKind.INVALID_FIELD);
        rejects(() -> RecordCodec.decodeDeadLetter(null), ErrorKind.EMPTY_RECORD);
    }

    @Test
    void deadLetterFromRejection() throws Exception {
        byte[] bad = {(byte) 0xC3, 0x28};
        RecordRejectedException e = assertThatThrownByRejection(bad);
        DeadLetterRecord d = DeadLetterRecord.of(Samples.SOURCE, null, bad, e, "decode", 99);
        assertThat(d.kind()).isEqualTo(ErrorKind.INVALID_UTF8);
        assertThat(RecordCodec.decodeDeadLetter(RecordCodec.encode(d)).value()).containsExactly(bad);
    }

    private static RecordRejectedException assertThatThrownByRejection(byte[] value) {
        try {
            new InputDecoder(Limits.defaults()).decode(value);
        } catch (RecordRejectedException e) {
            return e;
        }
        throw new AssertionError("expected a rejection");
    }

    @Test
    void topicTreeStructure() {
        String ok = wire(Samples.topicTree());
        rejects(() -> RecordCodec.decodeTopicTree(utf8(ok.replace("\"id\":1,\"parent\":0", "\"id\":1,\"parent\":-1"))),
                ErrorKind.INVALID_FIELD).hasMessageContaining("exactly one root").hasMessageContaining("found 2");
        rejects(() -> RecordCodec.decodeTopicTree(utf8(ok.replace("\"id\":0,\"parent\":-1", "\"id\":0,\"parent\":3"))),
                ErrorKind.INVALID_FIELD).hasMessageContaining("found 0");
        rejects(() -> RecordCodec.decodeTopicTree(utf8(ok.replace("\"id\":3,\"parent\":1", "\"id\":3,\"parent\":17"))),
                ErrorKind.INVALID_FIELD).hasMessageContaining("node 3 has parent 17");
        rejects(() -> RecordCodec.decodeTopicTree(utf8(ok.replace("\"id\":2,\"parent\":0", "\"id\":2,\"parent\":1")
                        .replace("\"id\":1,\"parent\":0", "\"id\":1,\"parent\":2"))),
                ErrorKind.INVALID_FIELD).hasMessageContaining("cycle");
        rejects(() -> RecordCodec.decodeTopicTree(utf8(ok.replace("\"id\":3,", "\"id\":2,"))),
                ErrorKind.INVALID_FIELD).hasMessageContaining("node id 2 appears more than once");
        rejects(() -> RecordCodec.decodeTopicTree(utf8(ok.replace("\"end\":1732302000000", "\"end\":1"))),
                ErrorKind.INVALID_FIELD).hasMessageContaining("before 'window.start'");
        rejects(() -> RecordCodec.decodeTopicTree(utf8(ok.replaceAll("\"nodes\":\\[.*\\]", "\"nodes\":[]"))),
                ErrorKind.INVALID_FIELD).hasMessageContaining("must not be empty");
        rejects(() -> RecordCodec.decodeTopicTree(utf8(ok.replace("\"lambda\":0.8125", "\"lambda\":-0.8125"))),
                ErrorKind.INVALID_FIELD).hasMessageContaining("'nodes[1].lambda'");
        rejects(() -> RecordCodec.decodeTopicTree(utf8(ok.replace("\"exemplars\":[\"msg-4\"]", "\"exemplars\":[4]"))),
                ErrorKind.INVALID_FIELD).hasMessageContaining("'nodes[2].exemplars[0]'");
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> tree(String json, ErrorKind kind) {
        return rejects(() -> RecordCodec.decodeTopicTree(utf8(json)), kind);
    }

    @Test
    void topicTreeHistoryRules() {
        String ok = wire(Samples.topicTreeWithHistory());
        String split = "{\"kind\":\"split\",\"topic\":12,\"from\":[4]}";
        tree(ok.replace("\"kind\":\"split\"", "\"kind\":\"exploded\""), ErrorKind.INVALID_FIELD)
                .hasMessage("field 'changes[0].kind' is 'exploded', must be 'born', 'split', 'merged' or 'died'");
        tree(ok.replace("\"kind\":\"split\"", "\"kind\":\"SPLIT\""), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'changes[0].kind'");
        tree(ok.replace("\"kind\":\"split\",", ""), ErrorKind.MISSING_FIELD).hasMessage("field 'changes[0].kind' is missing");
        tree(ok.replace("\"topic\":12", "\"topic\":-12"), ErrorKind.INVALID_FIELD).hasMessageContaining("'changes[0].topic' is -12");
        tree(ok.replace("\"from\":[4]", "\"from\":[-4]"), ErrorKind.INVALID_FIELD).hasMessageContaining("'changes[0].from[0]' is -4");
        tree(ok.replace("\"from\":[2,3]", "\"from\":[2,\"3\"]"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'changes[1].from[1]' must be an integer");
        tree(ok.replace("\"from\":[2,3]", "\"from\":[2,3.0]"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'changes[1].from[1]' must be an integer");
        tree(ok.replace(",\"from\":[4]", ""), ErrorKind.MISSING_FIELD).hasMessage("field 'changes[0].from' is missing");
        tree(ok.replace("\"from\":[4]", "\"from\":4"), ErrorKind.INVALID_FIELD).hasMessageContaining("'changes[0].from' must be an array");
        tree(ok.replace(split, "5"), ErrorKind.INVALID_FIELD).hasMessageContaining("'changes[0]' must be an object");
        tree(ok.replaceAll("\"changes\":\\[.*\\]", "\"changes\":{}"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'changes' must be an array");
        tree(ok.replace("\"noise_share\":0.18", "\"noise_share\":1.5"), ErrorKind.INVALID_FIELD)
                .hasMessage("field 'noise_share' is 1.5, must be a finite number in [0.0, 1.0]");
        tree(ok.replace("\"noise_share\":0.18", "\"noise_share\":1e400"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'noise_share'");
        tree(ok.replace("\"noise_share\":0.18", "\"noise_share\":null"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'noise_share' must be a number, got null");
        tree(ok.replace("\"churn\":0.25", "\"churn\":-0.25"), ErrorKind.INVALID_FIELD).hasMessageContaining("'churn' is -0.25");
        tree(ok.replace("\"churn\":0.25", "\"churn\":\"0.25\""), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'churn' must be a number");
        tree(ok.replace("\"tree_version\":7", "\"tree_version\":0"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'tree_version' is 0");
        tree(ok.replace("\"tree_version\":7", "\"tree_version\":7.0"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'tree_version' must be an integer");
        tree(ok.replace("\"key\":\"acme|text\"", "\"key\":\"\""), ErrorKind.INVALID_FIELD).hasMessageContaining("'key' is empty");
        tree(ok.replace("\"key\":\"acme|text\"", "\"key\":7"), ErrorKind.INVALID_FIELD).hasMessageContaining("'key' must be a string");
        tree(ok.replace("\"selected\":true", "\"selected\":\"yes\""), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'nodes[2].selected' must be a boolean");
        tree(ok.replace("\"selected\":false", "\"selected\":0"), ErrorKind.INVALID_FIELD)
                .hasMessageContaining("'nodes[0].selected' must be a boolean");
        tree(ok.replace("\"Great match last night\",", ""), ErrorKind.INVALID_FIELD)
                .hasMessage("field 'nodes[1].exemplar_texts' has 1 entries but 'nodes[1].exemplars' has 2:"
                        + " one text per exemplar, in order");
        tree(ok.replace("\"exemplar_texts\":[\"Storm warning\",\"\"]", "\"exemplar_texts\":[\"Storm warning\",\"\",\"x\"]"),
                ErrorKind.INVALID_FIELD).hasMessageContaining("'nodes[3].exemplar_texts' has 3 entries");
        tree(ok.replace("\"exemplar_texts\":[\"Storm warning\",\"\"]", "\"exemplar_texts\":[\"Storm warning\",5]"),
                ErrorKind.INVALID_FIELD).hasMessageContaining("'nodes[3].exemplar_texts[1]' must be a string");
        tree(ok.replace("\"exemplar_texts\":[\"Storm warning\",\"\"]", "\"exemplar_texts\":\"Storm warning\""),
                ErrorKind.INVALID_FIELD).hasMessageContaining("'nodes[3].exemplar_texts' must be an array");
    }

    @Test
    void topicTreeWithoutHistoryDecodesWithAbsentValues() throws Exception {
        // a version-1 tree written before the history fields existed
        TopicTreeRecord old = RecordCodec.decodeTopicTree(utf8(RecordCodecRoundTripTest.TREE_BEFORE));
        assertThat(old).isEqualTo(Samples.topicTree());
        assertThat(old.key()).isNull();
        assertThat(old.treeVersion()).isZero();
        assertThat(old.noiseShare()).isNull();
        assertThat(old.churn()).isNull();
        assertThat(old.changes()).isEmpty();
        assertThat(old.nodes()).allSatisfy(n -> {
            assertThat(n.selected()).isNull();
            assertThat(n.exemplarTexts()).isEmpty();
        });
        // empty arrays on the wire read as absent, and fields from later minor versions are ignored
        String empty = RecordCodecRoundTripTest.TREE_BEFORE
                .replace("\"exemplars\":[\"msg-4\"]", "\"exemplars\":[\"msg-4\"],\"exemplar_texts\":[],\"depth\":2")
                .replace("]}]}", "]}],\"changes\":[],\"rebuild_ms\":{\"p50\":12}}");
        assertThat(RecordCodec.decodeTopicTree(utf8(empty))).isEqualTo(Samples.topicTree());
    }

    @Test
    void topicTreeHistoryConstructorRules() {
        var root = new TopicTreeRecord.Node(0, -1, 0, 3, 0, null, List.of());
        assertThat(root).isEqualTo(new TopicTreeRecord.Node(0, -1, 0, 3, 0, null, null, null, null));
        assertThat(root.selected()).isNull();
        assertThat(root.exemplarTexts()).isEmpty();
        var plain = new TopicTreeRecord("t", 0, 1, 1, Samples.MODEL, List.of(root));
        assertThat(plain).isEqualTo(new TopicTreeRecord("t", 0, 1, 1, Samples.MODEL, List.of(root), null, 0, null, null,
                null));
        assertThat(plain.changes()).isEmpty();

        assertThatThrownBy(() -> new TopicTreeRecord.Change("exploded", 1, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(got 'exploded')");
        assertThatThrownBy(() -> new TopicTreeRecord.Change(null, 1, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(got null)");
        assertThatThrownBy(() -> new TopicTreeRecord.Change("born", -1, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topic must be >= 0");
        assertThatThrownBy(() -> new TopicTreeRecord.Change("split", 3, List.of(-2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("from[0] is -2");
        assertThatThrownBy(() -> new TopicTreeRecord.Change("merged", 3, java.util.Arrays.asList(1, null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("from[1] is null");
        assertThat(new TopicTreeRecord.Change("died", 3, null).from()).isEmpty();
        List<Integer> from = new java.util.ArrayList<>(List.of(1, 2));
        var merged = new TopicTreeRecord.Change(TopicTreeRecord.Change.MERGED, 3, from);
        from.add(9);
        assertThat(merged.from()).containsExactly(1, 2); // copied
        assertThatThrownBy(() -> merged.from().add(4)).isInstanceOf(UnsupportedOperationException.class);

        assertThatThrownBy(() -> new TopicTreeRecord.Node(1, 0, 1, 2, 0, null, List.of("a", "b"), true, List.of("x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 exemplarTexts but 2 exemplars");
        assertThat(new TopicTreeRecord.Node(1, 0, 1, 2, 0, null, List.of("a"), true, List.of("x")).exemplarTexts())
                .containsExactly("x");

        for (Double bad : new Double[] {1.5, -0.01, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> new TopicTreeRecord("t", 0, 1, 1, Samples.MODEL, List.of(root), null, 0, bad,
                    null, null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("noiseShare");
            assertThatThrownBy(() -> new TopicTreeRecord("t", 0, 1, 1, Samples.MODEL, List.of(root), null, 0, null,
                    bad, null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("churn");
        }
        assertThat(new TopicTreeRecord("t", 0, 1, 1, Samples.MODEL, List.of(root), "k", 1, 0.0, 1.0, null).churn())
                .isEqualTo(1.0);
        assertThatThrownBy(() -> new TopicTreeRecord("t", 0, 1, 1, Samples.MODEL, List.of(root), "", 1, null, null,
                null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key must not be empty");
        assertThatThrownBy(() -> new TopicTreeRecord("t", 0, 1, 1, Samples.MODEL, List.of(root), "k", -1, null, null,
                null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("treeVersion must be >= 0");
    }

    @Test
    void topicTreeConstructorEnforcesTheSameRules() {
        var root = new TopicTreeRecord.Node(0, -1, 0, 3, 0, null, List.of());
        var orphan = new TopicTreeRecord.Node(1, 5, 1, 2, 0, null, List.of());
        assertThatThrownBy(() -> new TopicTreeRecord("t", 0, 1, 1, Samples.MODEL, List.of(root, orphan)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("node 1 has parent 5");
        var a = new TopicTreeRecord.Node(1, 2, 1, 2, 0, null, List.of());
        var b = new TopicTreeRecord.Node(2, 1, 1, 2, 0, null, List.of());
        assertThatThrownBy(() -> new TopicTreeRecord("t", 0, 1, 1, Samples.MODEL, List.of(root, a, b)))
                .hasMessageContaining("cycle");
    }
}
