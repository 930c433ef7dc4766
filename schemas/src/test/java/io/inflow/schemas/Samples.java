package io.inflow.schemas;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One realistic, valid instance of every record, and byte helpers. */
final class Samples {
    static final SourceRef SOURCE = new SourceRef("events.text", 3, 1_234_567L, 1_732_300_000_123L);
    static final ModelRef MODEL = new ModelRef("all-minilm-l6-v2", "1.20.0-beta30");

    private Samples() {
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Map<String, String> attrs() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("tenant", "acme");
        m.put("channel", "support-chat");
        return m;
    }

    static TextEvent text() {
        return new TextEvent("msg-1", "A man is eating food. Ünïcödé and emoji \uD83C\uDF55 and \"quotes\"\n", "en",
                1_732_300_000_000L, attrs());
    }

    static ImageEvent inlineImage() {
        return new ImageEvent("img-1", "iVBORw0KGgo=", null, "image/png", 1_732_300_000_000L, Map.of("cam", "7"));
    }

    static ImageEvent uriImage() {
        return new ImageEvent("img-2", null, "file:/data/images/img-2.jpg", null, null, Map.of());
    }

    static CorpusRecord upsert() {
        return new CorpusRecord("doc-42", CorpusRecord.Op.UPSERT, "Flink runs stateful stream jobs.", attrs(),
                1_732_300_000_000L);
    }

    static CorpusRecord imageUpsert() {
        return CorpusRecord.imageUpsert("img-doc-1", "iVBORw0KGgo=", null, "image/png", Map.of("cam", "7"),
                1_732_300_000_000L);
    }

    static CorpusRecord uriImageUpsert() {
        return CorpusRecord.imageUpsert("img-doc-2", null, "file:/data/images/img-2.jpg", null, Map.of(), null);
    }

    static CorpusRecord embeddingUpsert() {
        return CorpusRecord.embeddingUpsert("vec-doc-1", embedding(), "all-minilm-l6-v2", Map.of("tenant", "a"),
                1_732_300_000_000L);
    }

    static CorpusRecord delete() {
        return new CorpusRecord("doc-42", CorpusRecord.Op.DELETE, null, Map.of(), null);
    }

    static float[] embedding() {
        return new float[] {0.1f, -0.0f, 0.0f, 1e-45f, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE,
                1f / 3f, (float) Math.PI, 16777217f, 1.0000001f, -2.5e-38f};
    }

    static EnrichedEvent enrichedText() {
        float[] e = embedding();
        return new EnrichedEvent("msg-1", "text", SOURCE, MODEL, 12, false, e.length, e, null, List.of(),
                attrs(), 1_732_300_000_999L);
    }

    static EnrichedEvent enrichedImage() {
        float[] e = {0.5f, -1.25f, 65504f, 6.1035156e-5f};
        return new EnrichedEvent("img-1", "image", new SourceRef("events.image", 0, 0, -1),
                new ModelRef("fashion-vit-tiny", "2025-01"), null, false, 4, null, Float16.encodeBase64(e),
                List.of(new EnrichedEvent.Score("sneaker", 0.93), new EnrichedEvent.Score("sandal", 0.05)),
                Map.of(), 1_732_300_001_000L);
    }

    /** The text sample answered by a two-shard cosine index: a score tie, partition 10 after 2 (numeric order). */
    static EnrichedEvent enrichedWithRetrieval() {
        Map<Integer, Long> shard0 = new LinkedHashMap<>();
        shard0.put(10, 77L);
        shard0.put(0, 1523L);
        shard0.put(2, -1L);
        return enrichedText().withRetrieval(
                List.of(new EnrichedEvent.Neighbour("doc-42", 0.83, 1), new EnrichedEvent.Neighbour("doc-7", 0.79, 2),
                        new EnrichedEvent.Neighbour("doc-9", 0.79, 3), new EnrichedEvent.Neighbour("doc-1", -0.25, 4)),
                new EnrichedEvent.IndexState(EnrichedEvent.IndexState.COSINE, 1200, List.of(
                        new EnrichedEvent.ShardState(0, 610, shard0),
                        new EnrichedEvent.ShardState(1, 590, Map.of(0, 1523L, 1, 1490L)))));
    }

    /** The text sample as a member of flat topic 12 of tree version 3: it joined node 12, under 4, under root 1. */
    static EnrichedEvent enrichedWithTopic() {
        return enrichedText().withTopic(new EnrichedEvent.TopicRef(12, List.of(12, 4, 1), 3));
    }

    /** The text sample scored by the spam/ham scorer at INT8: spam first (highest), then ham. */
    static EnrichedEvent enrichedScored() {
        return enrichedText().withScores(List.of(new EnrichedEvent.Score("spam", 0.96875),
                new EnrichedEvent.Score("ham", 0.03125)), new ScorerRef("spam-ham-minilm", "1", ScorerRef.INT8));
    }

    /** The image sample as noise of tree version 3: it joined node 4 (under root 1) but no flat topic. */
    static EnrichedEvent enrichedNoiseTopic() {
        return enrichedImage().withTopic(new EnrichedEvent.TopicRef(null, List.of(4, 1), 3));
    }

    /** The image sample assigned before its tenant's first tree: empty path, tree version 0. */
    static EnrichedEvent enrichedBeforeFirstTree() {
        return enrichedImage().withTopic(new EnrichedEvent.TopicRef(null, List.of(), 0));
    }

    static DeadLetterRecord deadLetter() {
        return new DeadLetterRecord(SOURCE, utf8("msg-1"), new byte[] {(byte) 0xC3, 0x28, 0x00, (byte) 0xFF},
                ErrorKind.INVALID_UTF8, "invalid UTF-8 at byte offset 0: 0xC3 0x28", "decode", 1_732_300_002_000L);
    }

    static DeadLetterRecord deadLetterNoKey() {
        return new DeadLetterRecord(SOURCE, null, null, ErrorKind.EMPTY_RECORD, "record value is null", "decode",
                1_732_300_002_000L);
    }

    static TopicTreeRecord topicTree() {
        List<TopicTreeRecord.Node> nodes = List.of(
                new TopicTreeRecord.Node(0, -1, 0.0, 120, 0.0, null, List.of()),
                new TopicTreeRecord.Node(1, 0, 0.8125, 70, 3.25, "sports", List.of("msg-1", "msg-9")),
                new TopicTreeRecord.Node(2, 0, 0.8125, 50, 2.1, "weather", List.of("msg-4")),
                new TopicTreeRecord.Node(3, 1, 1.7, 30, 0.1, null, List.of("msg-11")));
        return new TopicTreeRecord("tree-2024-11-22T18", 1_732_298_400_000L, 1_732_302_000_000L,
                1_732_302_000_500L, MODEL, nodes);
    }

    /**
     * A rebuilt tree with every optional field: key, tree version, shares, one change of each kind, and nodes with
     * {@code selected} true, false and absent, with and without exemplar texts.
     */
    static TopicTreeRecord topicTreeWithHistory() {
        List<TopicTreeRecord.Node> nodes = List.of(
                new TopicTreeRecord.Node(0, -1, 0.0, 200, 0.0, null, List.of(), false, List.of()),
                new TopicTreeRecord.Node(4, 0, 0.5, 90, 1.5, "sports", List.of("msg-1", "msg-9"), false,
                        List.of("Great match last night", "Who won the derby? \u26BD")),
                new TopicTreeRecord.Node(12, 4, 1.25, 30, 0.75, null, List.of("msg-11"), true,
                        List.of("Penalty \"shootout\"\nagain, Ünïcödé")),
                new TopicTreeRecord.Node(13, 0, 0.625, 60, 2.0, "weather", List.of("msg-4", "msg-5"), true,
                        List.of("Storm warning", "")),
                new TopicTreeRecord.Node(14, 0, 0.7, 20, 0.5, null, List.of("msg-20"), null, List.of()));
        List<TopicTreeRecord.Change> changes = List.of(
                new TopicTreeRecord.Change(TopicTreeRecord.Change.SPLIT, 12, List.of(4)),
                new TopicTreeRecord.Change(TopicTreeRecord.Change.MERGED, 13, List.of(2, 3)),
                new TopicTreeRecord.Change(TopicTreeRecord.Change.BORN, 14, List.of()),
                new TopicTreeRecord.Change(TopicTreeRecord.Change.DIED, 7, List.of()));
        return new TopicTreeRecord("acme|text#7", 1_732_298_400_000L, 1_732_302_000_000L, 1_732_302_000_500L, MODEL,
                nodes, "acme|text", 7, 0.18, 0.25, changes);
    }

    /** A dead letter of a 4 MiB input cut to 2 KiB (key kept, value cut). */
    static DeadLetterRecord deadLetterCut() {
        return new DeadLetterRecord(SOURCE, utf8("big-1"), new byte[4 << 20], ErrorKind.OVERSIZE_RECORD,
                "record is 4194304 bytes, over the limit of 1048576", "decode", 1_732_300_002_000L).fitTo(2048);
    }
}
