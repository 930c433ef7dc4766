package io.inflow.schemas;

import static io.inflow.schemas.Samples.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.schemas.EnrichedEvent.TopicRef;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * The optional {@code topic} of {@link EnrichedEvent}: its wire form in its three cases (member, noise, no tree
 * yet), that events without it encode exactly as before, the constructors' rules and the reader's rules.
 */
class EnrichedEventTopicTest {

    private static final String MEMBER_WIRE = "\"topic\":{\"id\":12,\"path\":[12,4,1],\"tree_version\":3}";
    private static final String NOISE_WIRE = "\"topic\":{\"path\":[4,1],\"tree_version\":3}";
    private static final String NO_TREE_WIRE = "\"topic\":{\"path\":[],\"tree_version\":0}";

    /**
     * Bytes the encoder wrote before the topic existed (main at 4ccc2d2), for {@link Samples#enrichedText()} and
     * {@link Samples#enrichedWithRetrieval()}: events without a topic must keep encoding to exactly these.
     */
    private static final String TEXT_BEFORE = "{\"type\":\"enriched\",\"version\":1,\"id\":\"msg-1\",\"input_type\":\"text\","
            + "\"source\":{\"topic\":\"events.text\",\"partition\":3,\"offset\":1234567,\"timestamp\":1732300000123},"
            + "\"model\":{\"name\":\"all-minilm-l6-v2\",\"version\":\"1.20.0-beta30\"},\"token_count\":12,"
            + "\"truncated\":false,\"embedding_dim\":12,\"embedding\":[0.1,-0.0,0.0,1.4E-45,1.1754944E-38,3.4028235E38,"
            + "-3.4028235E38,0.33333334,3.1415927,1.6777216E7,1.0000001,-2.5E-38],"
            + "\"attributes\":{\"tenant\":\"acme\",\"channel\":\"support-chat\"},\"processed_at\":1732300000999}";
    private static final String RETRIEVAL_BEFORE = "{\"type\":\"enriched\",\"version\":1,\"id\":\"msg-1\",\"input_type\":\"text\","
            + "\"source\":{\"topic\":\"events.text\",\"partition\":3,\"offset\":1234567,\"timestamp\":1732300000123},"
            + "\"model\":{\"name\":\"all-minilm-l6-v2\",\"version\":\"1.20.0-beta30\"},\"token_count\":12,"
            + "\"truncated\":false,\"embedding_dim\":12,\"embedding\":[0.1,-0.0,0.0,1.4E-45,1.1754944E-38,3.4028235E38,"
            + "-3.4028235E38,0.33333334,3.1415927,1.6777216E7,1.0000001,-2.5E-38],"
            + "\"neighbours\":[{\"doc_id\":\"doc-42\",\"score\":0.83,\"rank\":1},{\"doc_id\":\"doc-7\",\"score\":0.79,\"rank\":2},"
            + "{\"doc_id\":\"doc-9\",\"score\":0.79,\"rank\":3},{\"doc_id\":\"doc-1\",\"score\":-0.25,\"rank\":4}],"
            + "\"index\":{\"metric\":\"cosine\",\"documents\":1200,\"shards\":["
            + "{\"shard\":0,\"documents\":610,\"last_offsets\":{\"0\":1523,\"2\":-1,\"10\":77}},"
            + "{\"shard\":1,\"documents\":590,\"last_offsets\":{\"0\":1523,\"1\":1490}}]},"
            + "\"attributes\":{\"tenant\":\"acme\",\"channel\":\"support-chat\"},\"processed_at\":1732300000999}";
    /** {@link Samples#enrichedImage()} before the topic existed (it has no attributes: topic goes before processed_at). */
    private static final String IMAGE_BEFORE = "{\"type\":\"enriched\",\"version\":1,\"id\":\"img-1\",\"input_type\":\"image\","
            + "\"source\":{\"topic\":\"events.image\",\"partition\":0,\"offset\":0,\"timestamp\":-1},"
            + "\"model\":{\"name\":\"fashion-vit-tiny\",\"version\":\"2025-01\"},\"truncated\":false,\"embedding_dim\":4,"
            + "\"embedding_f16_b64\":\"ADgAvf97AAQ=\",\"scores\":[{\"label\":\"sneaker\",\"score\":0.93},"
            + "{\"label\":\"sandal\",\"score\":0.05}],\"processed_at\":1732300001000}";

    private static final TopicRef MEMBER = new TopicRef(12, List.of(12, 4, 1), 3);

    private static String wire(EnrichedEvent e) {
        return new String(RecordCodec.encode(e), StandardCharsets.UTF_8);
    }

    private static EnrichedEvent decode(String json) throws RecordRejectedException {
        return RecordCodec.decodeEnriched(utf8(json));
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> illegal(ThrowingCallable call) {
        return assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class);
    }

    // ---- wire form

    @Test
    void memberNoiseAndNoTreeYetWireForms() throws Exception {
        // after index (here absent), before attributes; path and tree_version always written, id only when set
        assertThat(wire(Samples.enrichedWithTopic()))
                .isEqualTo(TEXT_BEFORE.replace(",\"attributes\":", "," + MEMBER_WIRE + ",\"attributes\":"));
        assertThat(wire(Samples.enrichedNoiseTopic()))
                .isEqualTo(IMAGE_BEFORE.replace(",\"processed_at\":", "," + NOISE_WIRE + ",\"processed_at\":"));
        assertThat(wire(Samples.enrichedBeforeFirstTree()))
                .isEqualTo(IMAGE_BEFORE.replace(",\"processed_at\":", "," + NO_TREE_WIRE + ",\"processed_at\":"));

        for (EnrichedEvent e : List.of(Samples.enrichedWithTopic(), Samples.enrichedNoiseTopic(),
                Samples.enrichedBeforeFirstTree())) {
            EnrichedEvent back = decode(wire(e));
            assertThat(back).isEqualTo(e).hasSameHashCodeAs(e);
            assertThat(back.topic()).isEqualTo(e.topic());
        }
        TopicRef noise = decode(wire(Samples.enrichedNoiseTopic())).topic();
        assertThat(noise.id()).isNull();
        assertThat(noise.path()).containsExactly(4, 1);
        assertThat(noise.treeVersion()).isEqualTo(3);
        TopicRef early = decode(wire(Samples.enrichedBeforeFirstTree())).topic();
        assertThat(early).isNotNull(); // "no tree yet" is not "topics off"
        assertThat(early.id()).isNull();
        assertThat(early.path()).isEmpty();
        assertThat(early.treeVersion()).isZero();
    }

    @Test
    void topicGoesAfterIndexAndBeforeAttributes() throws Exception {
        EnrichedEvent e = Samples.enrichedWithRetrieval().withTopic(MEMBER);
        assertThat(wire(e)).isEqualTo(RETRIEVAL_BEFORE.replace("}}]},\"attributes\":",
                "}}]}," + MEMBER_WIRE + ",\"attributes\":")).isNotEqualTo(RETRIEVAL_BEFORE);
        assertThat(decode(wire(e))).isEqualTo(e);
    }

    @Test
    void eventsWithoutTopicEncodeByteForByteAsBefore() throws Exception {
        assertThat(wire(Samples.enrichedText())).isEqualTo(TEXT_BEFORE);
        assertThat(wire(Samples.enrichedWithRetrieval())).isEqualTo(RETRIEVAL_BEFORE);
        assertThat(wire(Samples.enrichedImage())).isEqualTo(IMAGE_BEFORE);
        assertThat(wire(Samples.enrichedWithTopic().withTopic(null))).isEqualTo(TEXT_BEFORE);
        assertThat(wire(Samples.enrichedWithRetrieval().withTopic(MEMBER).withTopic(null))).isEqualTo(RETRIEVAL_BEFORE);
        // and such bytes read back without a topic
        assertThat(decode(TEXT_BEFORE)).isEqualTo(Samples.enrichedText());
        assertThat(decode(TEXT_BEFORE).topic()).isNull();
        assertThat(decode(RETRIEVAL_BEFORE)).isEqualTo(Samples.enrichedWithRetrieval());
        assertThat(decode(RETRIEVAL_BEFORE).topic()).isNull();
    }

    @Test
    void edgeValuesRoundTrip() throws Exception {
        List<Integer> deep = IntStream.range(0, EnrichedEvent.MAX_TOPIC_PATH).map(i -> Integer.MAX_VALUE - i)
                .boxed().toList();
        for (TopicRef t : List.of(new TopicRef(Integer.MAX_VALUE - 999, deep, Long.MAX_VALUE),
                new TopicRef(0, List.of(0), 1), new TopicRef(null, List.of(0), 1),
                new TopicRef(4, List.of(12, 4, 4, 1), 2))) { // duplicates are not the codec's business
            EnrichedEvent e = Samples.enrichedImage().withTopic(t);
            assertThat(decode(wire(e))).isEqualTo(e);
        }
        assertThat(wire(Samples.enrichedImage().withTopic(new TopicRef(0, List.of(0), 1))))
                .contains("\"topic\":{\"id\":0,\"path\":[0],\"tree_version\":1}");
    }

    // ---- Java API

    @Test
    void constructorsWithTopicAndWithRetrieval() {
        EnrichedEvent base = Samples.enrichedText();
        EnrichedEvent fifteen = new EnrichedEvent(base.id(), base.inputType(), base.source(), base.model(),
                base.tokenCount(), base.truncated(), base.embeddingDim(), base.embedding(), base.embeddingF16Base64(),
                base.scores(), base.attributes(), base.processedAt(), List.of(), null, null);
        EnrichedEvent fourteen = new EnrichedEvent(base.id(), base.inputType(), base.source(), base.model(),
                base.tokenCount(), base.truncated(), base.embeddingDim(), base.embedding(), base.embeddingF16Base64(),
                base.scores(), base.attributes(), base.processedAt(), List.of(), null);
        assertThat(fifteen).isEqualTo(base).hasSameHashCodeAs(base);
        assertThat(fourteen).isEqualTo(base).hasSameHashCodeAs(base);
        assertThat(base.topic()).isNull();
        assertThat(fourteen.topic()).isNull();

        EnrichedEvent member = base.withTopic(MEMBER);
        assertThat(member.topic()).isSameAs(MEMBER);
        assertThat(member.embedding()).isSameAs(base.embedding());
        assertThat(member).isEqualTo(Samples.enrichedWithTopic()).hasSameHashCodeAs(Samples.enrichedWithTopic());
        assertThat(member).isNotEqualTo(base);
        assertThat(member).isNotEqualTo(base.withTopic(new TopicRef(null, List.of(12, 4, 1), 3)));
        assertThat(member).isNotEqualTo(base.withTopic(new TopicRef(12, List.of(12, 4, 1), 4)));
        assertThat(member).isNotEqualTo(base.withTopic(new TopicRef(12, List.of(12, 1), 3)));
        assertThat(member.hashCode()).isNotEqualTo(base.hashCode());
        assertThat(member.withTopic(null)).isEqualTo(base);
        assertThat(member.toString()).endsWith(", topic=TopicRef[id=12, path=[12, 4, 1], treeVersion=3], scorer=null]");
        assertThat(base.toString()).endsWith(", topic=null, scorer=null]");

        // withRetrieval keeps the topic, withTopic keeps the retrieval results
        EnrichedEvent both = member.withRetrieval(Samples.enrichedWithRetrieval().neighbours(),
                Samples.enrichedWithRetrieval().index());
        assertThat(both.topic()).isEqualTo(MEMBER);
        assertThat(both).isEqualTo(Samples.enrichedWithRetrieval().withTopic(MEMBER));
        assertThat(both.withTopic(null)).isEqualTo(Samples.enrichedWithRetrieval());
        assertThat(both.withRetrieval(List.of(), null)).isEqualTo(member);
        assertThat(both.withTopic(new TopicRef(null, List.of(), 0)).neighbours()).hasSize(4);
    }

    @Test
    void topicRefRules() {
        illegal(() -> new TopicRef(-1, List.of(1), 1)).hasMessageContaining("topic id must be >= 0")
                .hasMessageContaining("(got -1)");
        illegal(() -> new TopicRef(null, List.of(4, -1), 1))
                .hasMessage("topic path[1] is -1, must be a node id >= 0");
        illegal(() -> new TopicRef(null, Arrays.asList(4, null, 1), 1))
                .hasMessage("topic path[1] is null, must be a node id >= 0");
        illegal(() -> new TopicRef(null, List.of(), -1)).hasMessage("topic treeVersion must be >= 0 (got -1)");
        illegal(() -> new TopicRef(null, List.of(4, 1), 0))
                .hasMessageStartingWith("topic treeVersion is 0 but path is [4, 1]");
        illegal(() -> new TopicRef(12, List.of(4, 1), 3))
                .hasMessageStartingWith("topic id 12 is not in path [4, 1]");
        illegal(() -> new TopicRef(12, List.of(), 0)).hasMessageStartingWith("topic id 12 is not in path []");
        illegal(() -> new TopicRef(12, null, 0)).hasMessageStartingWith("topic id 12 is not in path []");

        List<Integer> tooDeep = Collections.nCopies(EnrichedEvent.MAX_TOPIC_PATH + 1, 0);
        assertThat(new TopicRef(0, tooDeep.subList(0, 1000), 1).path()).hasSize(1000);
        illegal(() -> new TopicRef(0, tooDeep, 1)).hasMessage("topic path has 1001 entries, limit is 1000");

        // the three valid shapes, and null read as an empty path
        assertThat(new TopicRef(12, List.of(12, 4, 1), 3).id()).isEqualTo(12);
        assertThat(new TopicRef(null, List.of(4, 1), 3).id()).isNull();
        assertThat(new TopicRef(null, null, 0)).isEqualTo(new TopicRef(null, List.of(), 0));
        // not written by the clustering stage, but not a contradiction either: accepted (documented in the README)
        assertThat(new TopicRef(null, List.of(), 2).treeVersion()).isEqualTo(2);
    }

    @Test
    void pathIsCopiedAndUnmodifiable() {
        List<Integer> path = new ArrayList<>(List.of(12, 4, 1));
        TopicRef t = new TopicRef(12, path, 3);
        path.set(0, 99);
        path.add(7);
        assertThat(t.path()).containsExactly(12, 4, 1);
        assertThat(t).isEqualTo(MEMBER).hasSameHashCodeAs(MEMBER);
        assertThatThrownBy(() -> t.path().add(5)).isInstanceOf(UnsupportedOperationException.class);
    }

    // ---- reader

    private static AbstractThrowableAssert<?, ? extends Throwable> rejects(String json, ErrorKind kind) {
        return assertThatThrownBy(() -> decode(json))
                .isInstanceOfSatisfying(RecordRejectedException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> invalid(String json) {
        return rejects(json, ErrorKind.INVALID_FIELD);
    }

    /** The member sample's wire form with its topic object's inside replaced. */
    private static String withTopic(String inside) {
        return wire(Samples.enrichedWithTopic()).replace(MEMBER_WIRE.substring("\"topic\":".length()), inside);
    }

    @Test
    void readerRejectsMalformedTopic() {
        invalid(withTopic("{\"id\":7,\"path\":[12,4,1],\"tree_version\":3}"))
                .hasMessage("field 'topic.id' is 7, not in 'topic.path' [12, 4, 1]: the flat topic must be one of the"
                        + " nodes the event joined");
        invalid(withTopic("{\"id\":12,\"path\":[],\"tree_version\":0}")).hasMessageStartingWith("field 'topic.id' is 12,");
        invalid(withTopic("{\"id\":-12,\"path\":[12,4,1],\"tree_version\":3}"))
                .hasMessage("field 'topic.id' is -12, must be between 0 and 2147483647");
        invalid(withTopic("{\"id\":12.0,\"path\":[12,4,1],\"tree_version\":3}"))
                .hasMessage("field 'topic.id' must be an integer, got a decimal number (12.0)");
        invalid(withTopic("{\"id\":\"12\",\"path\":[12,4,1],\"tree_version\":3}"))
                .hasMessage("field 'topic.id' must be an integer, got a string (\"12\")");
        invalid(withTopic("{\"id\":null,\"path\":[4,1],\"tree_version\":3}"))
                .hasMessage("field 'topic.id' must be an integer, got null");
        invalid(withTopic("{\"id\":12,\"path\":[12,4,\"1\"],\"tree_version\":3}"))
                .hasMessage("field 'topic.path[2]' must be an integer, got a string (\"1\")");
        invalid(withTopic("{\"id\":12,\"path\":[12,4,1.5],\"tree_version\":3}"))
                .hasMessageStartingWith("field 'topic.path[2]' must be an integer");
        invalid(withTopic("{\"id\":12,\"path\":[12,-4,1],\"tree_version\":3}"))
                .hasMessage("field 'topic.path[1]' is -4, must be between 0 and 2147483647");
        invalid(withTopic("{\"id\":12,\"path\":[12,4,2147483648],\"tree_version\":3}"))
                .hasMessageStartingWith("field 'topic.path[2]' is 2147483648");
        invalid(withTopic("{\"id\":12,\"path\":[12,null],\"tree_version\":3}"))
                .hasMessage("field 'topic.path[1]' must be an integer, got null");
        invalid(withTopic("{\"id\":12,\"path\":12,\"tree_version\":3}"))
                .hasMessage("field 'topic.path' must be an array, got an integer (12)");
        invalid(withTopic("{\"path\":[4,1],\"tree_version\":0}"))
                .hasMessage("field 'topic.tree_version' is 0, must be >= 1 when 'topic.path' is not empty (0 only"
                        + " before the first tree, with an empty path)");
        invalid(withTopic("{\"path\":[],\"tree_version\":-1}"))
                .hasMessageStartingWith("field 'topic.tree_version' is -1, must be between 0 and");
        invalid(withTopic("{\"path\":[4,1],\"tree_version\":\"3\"}"))
                .hasMessage("field 'topic.tree_version' must be an integer, got a string (\"3\")");
        rejects(withTopic("{\"id\":12,\"tree_version\":3}"), ErrorKind.MISSING_FIELD)
                .hasMessage("field 'topic.path' is missing");
        rejects(withTopic("{\"id\":12,\"path\":[12,4,1]}"), ErrorKind.MISSING_FIELD)
                .hasMessage("field 'topic.tree_version' is missing");
        invalid(withTopic("[12,4,1]")).hasMessage("field 'topic' must be an object, got an array");
        invalid(withTopic("null")).hasMessage("field 'topic' must be an object, got null");

        String tooDeep = IntStream.rangeClosed(0, EnrichedEvent.MAX_TOPIC_PATH).mapToObj(i -> "0")
                .collect(Collectors.joining(",", "{\"path\":[", "],\"tree_version\":1}"));
        invalid(withTopic(tooDeep)).hasMessage("field 'topic.path' has 1001 entries, limit is 1000");
    }

    @Test
    void readerIgnoresUnknownFieldsInsideTopic() throws Exception {
        assertThat(decode(withTopic("{\"id\":12,\"density\":0.42,\"path\":[12,4,1],\"tree_version\":3,\"key\":\"acme|text\"}")))
                .isEqualTo(Samples.enrichedWithTopic());
        assertThat(decode(withTopic("{\"path\":[],\"tree_version\":2}")).topic())
                .isEqualTo(new TopicRef(null, List.of(), 2));
        // field order inside the object does not matter
        assertThat(decode(withTopic("{\"tree_version\":3,\"path\":[12,4,1],\"id\":12}")))
                .isEqualTo(Samples.enrichedWithTopic());
    }
}
