package io.inflow.schemas;

import static io.inflow.schemas.Samples.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.inflow.schemas.EnrichedEvent.IndexState;
import io.inflow.schemas.EnrichedEvent.Neighbour;
import io.inflow.schemas.EnrichedEvent.ShardState;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * The retrieval components of {@link EnrichedEvent} ({@code neighbours}, {@code index}): their wire form, that
 * events without them encode exactly as before, the constructors' rules, and the reader's rules for malformed input.
 */
class EnrichedEventRetrievalTest {

    /** The wire form of the retrieval results of {@link Samples#enrichedWithRetrieval()}, pinned. */
    private static final String RETRIEVAL_WIRE = "\"neighbours\":[{\"doc_id\":\"doc-42\",\"score\":0.83,\"rank\":1},"
            + "{\"doc_id\":\"doc-7\",\"score\":0.79,\"rank\":2},{\"doc_id\":\"doc-9\",\"score\":0.79,\"rank\":3},"
            + "{\"doc_id\":\"doc-1\",\"score\":-0.25,\"rank\":4}],"
            + "\"index\":{\"metric\":\"cosine\",\"documents\":1200,\"shards\":["
            + "{\"shard\":0,\"documents\":610,\"last_offsets\":{\"0\":1523,\"2\":-1,\"10\":77}},"
            + "{\"shard\":1,\"documents\":590,\"last_offsets\":{\"0\":1523,\"1\":1490}}]}";

    /**
     * Bytes the encoder wrote before retrieval results existed (main at 68d9585), for {@link Samples#enrichedImage()}
     * and for {@link #smallText()}: events without retrieval results must keep encoding to exactly these.
     */
    private static final String IMAGE_BEFORE = "{\"type\":\"enriched\",\"version\":1,\"id\":\"img-1\",\"input_type\":\"image\","
            + "\"source\":{\"topic\":\"events.image\",\"partition\":0,\"offset\":0,\"timestamp\":-1},"
            + "\"model\":{\"name\":\"fashion-vit-tiny\",\"version\":\"2025-01\"},\"truncated\":false,\"embedding_dim\":4,"
            + "\"embedding_f16_b64\":\"ADgAvf97AAQ=\",\"scores\":[{\"label\":\"sneaker\",\"score\":0.93},"
            + "{\"label\":\"sandal\",\"score\":0.05}],\"processed_at\":1732300001000}";
    private static final String TEXT_BEFORE = "{\"type\":\"enriched\",\"version\":1,\"id\":\"msg-1\",\"input_type\":\"text\","
            + "\"source\":{\"topic\":\"events.text\",\"partition\":3,\"offset\":1234567,\"timestamp\":1732300000123},"
            + "\"model\":{\"name\":\"all-minilm-l6-v2\",\"version\":\"1.20.0-beta30\"},\"token_count\":12,"
            + "\"truncated\":false,\"embedding_dim\":3,\"embedding\":[0.0123,-0.044,0.5],"
            + "\"attributes\":{\"tenant\":\"acme\",\"channel\":\"support-chat\"},\"processed_at\":1732300000999}";

    private static EnrichedEvent smallText() {
        return new EnrichedEvent("msg-1", "text", Samples.SOURCE, Samples.MODEL, 12, false, 3,
                new float[] {0.0123f, -0.044f, 0.5f}, null, List.of(), Samples.attrs(), 1_732_300_000_999L);
    }

    private static String wire(EnrichedEvent e) {
        return new String(RecordCodec.encode(e), StandardCharsets.UTF_8);
    }

    /** Neighbours doc-0, doc-1... with the given scores and ranks 1..n. */
    private static List<Neighbour> ranked(double... scores) {
        List<Neighbour> out = new ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            out.add(new Neighbour("doc-" + i, scores[i], i + 1));
        }
        return out;
    }

    private static ShardState shard(int index) {
        return new ShardState(index, 10, Map.of(0, 5L));
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> illegal(ThrowingCallable call) {
        return assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class);
    }

    // ---- wire form

    @Test
    void roundTripWithNeighboursAndIndexState() throws Exception {
        EnrichedEvent e = Samples.enrichedWithRetrieval();
        assertThat(RecordCodec.decodeEnriched(RecordCodec.encode(e))).isEqualTo(e);
        // after the results already there, before attributes; last_offsets in partition order (10 after 2)
        assertThat(wire(e)).isEqualTo(wire(Samples.enrichedText())
                .replace(",\"attributes\":", "," + RETRIEVAL_WIRE + ",\"attributes\":"));
    }

    @Test
    void everyMetricAndEdgeValuesRoundTrip() throws Exception {
        Map<Integer, Long> offsets = new HashMap<>();
        offsets.put(Integer.MAX_VALUE, Long.MAX_VALUE);
        offsets.put(0, -1L);
        for (String metric : List.of(IndexState.INNER_PRODUCT, IndexState.COSINE, IndexState.L2)) {
            // l2: scores are negated squared distances, so all <= 0; exact ties; the smallest subnormal
            EnrichedEvent e = Samples.enrichedImage().withRetrieval(
                    ranked(-0.0, -Double.MIN_VALUE, -Double.MIN_VALUE, -(0.1 + 0.2), -1e300),
                    new IndexState(metric, 0, List.of(new ShardState(0, 0, Map.of()),
                            new ShardState(Integer.MAX_VALUE, Long.MAX_VALUE, offsets))));
            EnrichedEvent back = RecordCodec.decodeEnriched(RecordCodec.encode(e));
            assertThat(back).as(metric).isEqualTo(e);
            assertThat(back.neighbours().get(0).score()).isEqualTo(-0.0);
            assertThat(back.neighbours().get(3).score()).isEqualTo(-(0.1 + 0.2));
        }
        assertThat(wire(Samples.enrichedImage().withRetrieval(List.of(), new IndexState(IndexState.L2, 0, List.of()))))
                .contains("\"index\":{\"metric\":\"l2\",\"documents\":0,\"shards\":[]}").doesNotContain("neighbours");
    }

    @Test
    void eventsWithoutRetrievalEncodeByteForByteAsBefore() throws Exception {
        assertThat(wire(Samples.enrichedImage())).isEqualTo(IMAGE_BEFORE);
        assertThat(wire(smallText())).isEqualTo(TEXT_BEFORE);
        assertThat(wire(smallText().withRetrieval(List.of(), null))).isEqualTo(TEXT_BEFORE);
        assertThat(wire(smallText().withRetrieval(null, null))).isEqualTo(TEXT_BEFORE);
        assertThat(RecordCodec.decodeEnriched(utf8(TEXT_BEFORE))).isEqualTo(smallText());
        assertThat(RecordCodec.decodeEnriched(utf8(TEXT_BEFORE)).neighbours()).isEmpty();
        assertThat(RecordCodec.decodeEnriched(utf8(TEXT_BEFORE)).index()).isNull();

        // negative control: the same event with one neighbour encodes differently, by exactly that field
        EnrichedEvent one = Samples.enrichedImage().withRetrieval(List.of(new Neighbour("doc-42", 0.83, 1)), null);
        assertThat(wire(one)).isNotEqualTo(IMAGE_BEFORE).isEqualTo(IMAGE_BEFORE.replace(",\"processed_at\":",
                ",\"neighbours\":[{\"doc_id\":\"doc-42\",\"score\":0.83,\"rank\":1}],\"processed_at\":"));
    }

    @Test
    void twelveArgumentConstructorAndWithRetrieval() {
        EnrichedEvent base = smallText();
        EnrichedEvent explicit = new EnrichedEvent(base.id(), base.inputType(), base.source(), base.model(),
                base.tokenCount(), base.truncated(), base.embeddingDim(), base.embedding(), base.embeddingF16Base64(),
                base.scores(), base.attributes(), base.processedAt(), List.of(), null);
        assertThat(explicit).isEqualTo(base).hasSameHashCodeAs(base);
        assertThat(base.neighbours()).isEmpty();
        assertThat(base.index()).isNull();

        EnrichedEvent full = Samples.enrichedWithRetrieval();
        assertThat(full).isEqualTo(Samples.enrichedWithRetrieval()).hasSameHashCodeAs(Samples.enrichedWithRetrieval());
        assertThat(full).isNotEqualTo(Samples.enrichedText());
        assertThat(full.withRetrieval(full.neighbours(), null)).isNotEqualTo(full);
        assertThat(full.withRetrieval(List.of(), full.index())).isNotEqualTo(full);
        assertThat(full.withRetrieval(List.of(), null)).isEqualTo(Samples.enrichedText());
        assertThat(full.toString()).contains("neighbours=[Neighbour[docId=doc-42").contains("metric=cosine");
        assertThatThrownBy(() -> full.neighbours().add(new Neighbour("x", 0, 5)))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    // ---- constructor rules

    @Test
    void neighbourRules() {
        illegal(() -> new Neighbour("", 0.5, 1)).hasMessage("docId must not be empty");
        assertThatThrownBy(() -> new Neighbour(null, 0.5, 1)).isInstanceOf(NullPointerException.class).hasMessage("docId");
        illegal(() -> new Neighbour("doc-1", Double.NaN, 1)).hasMessage("score of neighbour 'doc-1' must be finite (got NaN)");
        illegal(() -> new Neighbour("doc-1", Double.NEGATIVE_INFINITY, 1))
                .hasMessage("score of neighbour 'doc-1' must be finite (got -Infinity)");
        illegal(() -> new Neighbour("doc-1", 0.5, 0)).hasMessage("rank of neighbour 'doc-1' must be >= 1 (got 0)");
    }

    @Test
    void neighbourListRules() {
        EnrichedEvent base = smallText();
        assertThat(base.withRetrieval(ranked(0.9, 0.9, 0.9), null).neighbours()).hasSize(3); // ties allowed

        List<Neighbour> gap = List.of(new Neighbour("a", 0.9, 1), new Neighbour("b", 0.8, 3));
        illegal(() -> base.withRetrieval(gap, null))
                .hasMessage("neighbours[1] has rank 3, expected 2: ranks run 1..n in list order");
        illegal(() -> base.withRetrieval(List.of(new Neighbour("a", 0.9, 2)), null))
                .hasMessage("neighbours[0] has rank 2, expected 1: ranks run 1..n in list order");
        List<Neighbour> swapped = List.of(new Neighbour("a", 0.8, 2), new Neighbour("b", 0.9, 1));
        illegal(() -> base.withRetrieval(swapped, null)).hasMessageContaining("neighbours[0] has rank 2, expected 1");
        illegal(() -> base.withRetrieval(ranked(0.9, 0.5, 0.7), null))
                .hasMessage("neighbours[2] has score 0.7, above the 0.5 of neighbours[1]: scores must not increase"
                        + " down the list");
        illegal(() -> base.withRetrieval(ranked(-3.0, -1.0), null)) // l2: -1 (distance 1) beats -3 (distance 3)
                .hasMessageContaining("neighbours[1] has score -1.0, above the -3.0 of neighbours[0]");

        double[] scores = new double[EnrichedEvent.MAX_NEIGHBOURS + 1];
        assertThat(base.withRetrieval(ranked(Arrays.copyOf(scores, EnrichedEvent.MAX_NEIGHBOURS)), null)
                .neighbours()).hasSize(2048);
        illegal(() -> base.withRetrieval(ranked(scores), null)).hasMessage("neighbours has 2049 entries, limit is 2048");
    }

    @Test
    void indexStateRules() {
        illegal(() -> new IndexState("euclidean", 1, List.of()))
                .hasMessage("metric must be 'inner_product', 'cosine' or 'l2' (got 'euclidean')");
        illegal(() -> new IndexState("COSINE", 1, List.of())).hasMessageContaining("(got 'COSINE')");
        illegal(() -> new IndexState(null, 1, List.of())).hasMessageContaining("(got null)");
        illegal(() -> new IndexState(IndexState.COSINE, -1, List.of())).hasMessage("documents must be >= 0 (got -1)");
        assertThat(new IndexState(IndexState.COSINE, 0, null).shards()).isEmpty();

        illegal(() -> new IndexState(IndexState.COSINE, 20, List.of(shard(0), shard(0))))
                .hasMessage("shards[1] is shard 0 after shard 0: shards must be distinct and in ascending order");
        illegal(() -> new IndexState(IndexState.COSINE, 20, List.of(shard(0), shard(2), shard(1))))
                .hasMessage("shards[2] is shard 1 after shard 2: shards must be distinct and in ascending order");
        assertThat(new IndexState(IndexState.COSINE, 20, List.of(shard(0), shard(3))).shards()).hasSize(2); // gaps ok

        List<ShardState> many = IntStream.rangeClosed(0, IndexState.MAX_SHARDS).mapToObj(i -> shard(i)).toList();
        assertThat(new IndexState(IndexState.L2, 0, many.subList(0, 1024)).shards()).hasSize(1024);
        illegal(() -> new IndexState(IndexState.L2, 0, many)).hasMessage("shards has 1025 entries, limit is 1024");
    }

    @Test
    void shardStateRules() {
        illegal(() -> new ShardState(-1, 0, Map.of())).hasMessage("shard must be >= 0 (got -1)");
        illegal(() -> new ShardState(2, -5, Map.of())).hasMessage("documents of shard 2 must be >= 0 (got -5)");
        illegal(() -> new ShardState(2, 0, Map.of(-1, 5L)))
                .hasMessage("lastOffsets of shard 2 has partition -1, must be >= 0");
        illegal(() -> new ShardState(2, 0, Map.of(3, -2L)))
                .hasMessage("lastOffsets of shard 2 has offset -2 for partition 3, must be >= -1 (-1: none applied yet)");
        Map<Integer, Long> nullOffset = new HashMap<>();
        nullOffset.put(3, null);
        illegal(() -> new ShardState(2, 0, nullOffset)).hasMessageContaining("has offset null for partition 3");
        Map<Integer, Long> many = IntStream.rangeClosed(0, ShardState.MAX_PARTITIONS).boxed()
                .collect(Collectors.toMap(p -> p, p -> -1L));
        illegal(() -> new ShardState(2, 0, many)).hasMessage("lastOffsets of shard 2 has 1025 partitions, limit is 1024");
        assertThat(new ShardState(0, 0, null).lastOffsets()).isEmpty();
    }

    @Test
    void lastOffsetsAreCopiedSortedAndUnmodifiable() {
        Map<Integer, Long> source = new LinkedHashMap<>();
        source.put(10, 7L);
        source.put(2, -1L);
        source.put(0, 3L);
        ShardState s = new ShardState(0, 3, source);
        source.put(5, 9L);
        assertThat(s.lastOffsets()).isInstanceOf(SortedMap.class).containsExactly(
                Map.entry(0, 3L), Map.entry(2, -1L), Map.entry(10, 7L));
        assertThatThrownBy(() -> s.lastOffsets().put(1, 1L)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(s).isEqualTo(new ShardState(0, 3, Map.of(10, 7L, 2, -1L, 0, 3L)));
    }

    // ---- reader

    private static AbstractThrowableAssert<?, ? extends Throwable> rejects(String json, ErrorKind kind) {
        return assertThatThrownBy(() -> RecordCodec.decodeEnriched(utf8(json)))
                .isInstanceOfSatisfying(RecordRejectedException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> invalid(String json) {
        return rejects(json, ErrorKind.INVALID_FIELD);
    }

    @Test
    void readerRejectsMalformedNeighbours() {
        String ok = wire(Samples.enrichedWithRetrieval());
        invalid(ok.replace("\"neighbours\":[", "\"neighbours\":{},\"x\":["))
                .hasMessage("field 'neighbours' must be an array, got an object");
        invalid(ok.replace("\"neighbours\":[", "\"neighbours\":[1,"))
                .hasMessage("field 'neighbours[0]' must be an object, got an integer (1)");
        invalid(ok.replace("\"doc_id\":\"doc-42\"", "\"doc_id\":\"\""))
                .hasMessage("field 'neighbours[0].doc_id' must not be empty");
        invalid(ok.replace("\"doc_id\":\"doc-42\"", "\"doc_id\":42")).hasMessageContaining("'neighbours[0].doc_id'");
        invalid(ok.replace("\"score\":0.83", "\"score\":\"0.83\""))
                .hasMessage("field 'neighbours[0].score' must be a number, got a string (\"0.83\")");
        invalid(ok.replace("\"score\":0.83", "\"score\":1e400")).hasMessageContaining("'neighbours[0].score'")
                .hasMessageContaining("must be a finite number");
        invalid(ok.replace("\"score\":0.83", "\"score\":null")).hasMessageContaining("'neighbours[0].score'");
        invalid(ok.replace("\"rank\":1}", "\"rank\":0}"))
                .hasMessage("field 'neighbours[0].rank' is 0, must be between 1 and 2147483647");
        invalid(ok.replace("\"rank\":1}", "\"rank\":1.0}")).hasMessageContaining("'neighbours[0].rank' must be an integer");
        invalid(ok.replace("\"rank\":2}", "\"rank\":3}"))
                .hasMessage("field 'neighbours': neighbours[1] has rank 3, expected 2: ranks run 1..n in list order");
        invalid(ok.replace("\"score\":0.83", "\"score\":0.5"))
                .hasMessage("field 'neighbours': neighbours[1] has score 0.79, above the 0.5 of neighbours[0]: scores"
                        + " must not increase down the list");
        invalid(ok.replace("\"neighbours\":[", "\"neighbours\":null,\"x\":[")).hasMessageContaining("'neighbours'");
        rejects(ok.replace(",\"rank\":1}", "}"), ErrorKind.MISSING_FIELD).hasMessage("field 'neighbours[0].rank' is missing");

        String tooMany = IntStream.rangeClosed(1, EnrichedEvent.MAX_NEIGHBOURS + 1)
                .mapToObj(i -> "{\"doc_id\":\"d" + i + "\",\"score\":0,\"rank\":" + i + "}")
                .collect(Collectors.joining(",", "\"neighbours\":[", "]"));
        invalid(ok.replaceAll("\"neighbours\":\\[[^\\]]*\\]", tooMany))
                .hasMessage("field 'neighbours' has 2049 entries, limit is 2048");
    }

    @Test
    void readerRejectsMalformedIndexState() {
        String ok = wire(Samples.enrichedWithRetrieval());
        invalid(ok.replace("\"index\":{", "\"index\":[],\"x\":{")).hasMessage("field 'index' must be an object, got an array");
        invalid(ok.replace("\"metric\":\"cosine\"", "\"metric\":\"euclidean\""))
                .hasMessage("field 'index.metric' is 'euclidean', must be 'inner_product', 'cosine' or 'l2'");
        invalid(ok.replace("\"metric\":\"cosine\"", "\"metric\":\"Cosine\"")).hasMessageContaining("'index.metric'");
        rejects(ok.replace("\"metric\":\"cosine\",", ""), ErrorKind.MISSING_FIELD).hasMessage("field 'index.metric' is missing");
        invalid(ok.replace("\"documents\":1200", "\"documents\":-1"))
                .hasMessageContaining("field 'index.documents' is -1, must be between 0 and");
        invalid(ok.replace("\"documents\":590", "\"documents\":-590"))
                .hasMessageContaining("field 'index.shards[1].documents' is -590");
        invalid(ok.replace("\"shard\":1,", "\"shard\":-1,")).hasMessageContaining("field 'index.shards[1].shard' is -1");
        invalid(ok.replace("\"shard\":1,", "\"shard\":0,"))
                .hasMessage("field 'index.shards': shards[1] is shard 0 after shard 0: shards must be distinct and in"
                        + " ascending order");
        invalid(ok.replace("\"shard\":0,", "\"shard\":2,"))
                .hasMessageContaining("field 'index.shards': shards[1] is shard 1 after shard 2");
        rejects(ok.replace(",\"shards\":[", ",\"x\":["), ErrorKind.MISSING_FIELD).hasMessage("field 'index.shards' is missing");
        invalid(ok.replace("\"shards\":[", "\"shards\":[7,")).hasMessage("field 'index.shards[0]' must be an object, got an integer (7)");
        invalid(ok.replace("\"last_offsets\":{\"0\":1523,\"1\":1490}", "\"last_offsets\":[1523,1490]"))
                .hasMessage("field 'index.shards[1].last_offsets' must be an object, got an array");
        for (String key : List.of("01", "-1", "+1", "x", "", " 1", "2147483648", "99999999999")) {
            invalid(ok.replace("\"1\":1490", "\"" + key + "\":1490")).as(key)
                    .hasMessageStartingWith("field 'index.shards[1].last_offsets' has key '" + key + "', must be a"
                            + " partition number");
        }
        invalid(ok.replace("\"1\":1490", "\"1\":-2"))
                .hasMessageContaining("field 'index.shards[1].last_offsets.1' is -2, must be between -1 and");
        invalid(ok.replace("\"1\":1490", "\"1\":\"1490\""))
                .hasMessage("field 'index.shards[1].last_offsets.1' must be an integer, got a string (\"1490\")");
        invalid(ok.replace("\"1\":1490", "\"1\":1490.5")).hasMessageContaining("'index.shards[1].last_offsets.1'");

        String manyPartitions = IntStream.rangeClosed(0, ShardState.MAX_PARTITIONS)
                .mapToObj(p -> "\"" + p + "\":-1").collect(Collectors.joining(","));
        invalid(ok.replace("\"0\":1523,\"1\":1490", manyPartitions))
                .hasMessage("field 'index.shards[1].last_offsets' has 1025 partitions, limit is 1024");
        String manyShards = IntStream.rangeClosed(0, IndexState.MAX_SHARDS)
                .mapToObj(s -> "{\"shard\":" + s + ",\"documents\":0,\"last_offsets\":{}}").collect(Collectors.joining(","));
        invalid(ok.replaceAll("\"shards\":\\[.*\\]}", "\"shards\":[" + manyShards + "]}"))
                .hasMessage("field 'index.shards' has 1025 entries, limit is 1024");
    }

    @Test
    void readerTakesEitherFieldAloneAndIgnoresUnknownFieldsInside() throws Exception {
        EnrichedEvent full = Samples.enrichedWithRetrieval();
        String ok = wire(full);
        String noIndex = ok.replaceAll(",\"index\":\\{.*\\]\\}", "");
        assertThat(RecordCodec.decodeEnriched(utf8(noIndex))).isEqualTo(full.withRetrieval(full.neighbours(), null));
        String noNeighbours = ok.replaceAll("\"neighbours\":\\[[^\\]]*\\],", "");
        assertThat(RecordCodec.decodeEnriched(utf8(noNeighbours))).isEqualTo(full.withRetrieval(List.of(), full.index()));

        String extras = ok.replace("\"rank\":1}", "\"rank\":1,\"distance\":0.17,\"shard\":3}")
                .replace("\"metric\":\"cosine\",", "\"metric\":\"cosine\",\"nprobe\":8,")
                .replace("\"shard\":1,", "\"shard\":1,\"host\":\"gpu-2\",");
        assertThat(RecordCodec.decodeEnriched(utf8(extras))).isEqualTo(full);
    }
}
