package io.inflow.schemas;

import static io.inflow.schemas.Samples.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** encode then decode gives back an equal record, for every record type. */
class RecordCodecRoundTripTest {
    private final InputDecoder decoder = new InputDecoder(Limits.defaults());

    @Test
    void textEvent() throws Exception {
        TextEvent e = Samples.text();
        assertThat(decoder.decode(RecordCodec.encode(e))).isEqualTo(e);
        TextEvent minimal = new TextEvent("m", "t", null, null, null);
        assertThat(new String(RecordCodec.encode(minimal), StandardCharsets.UTF_8))
                .isEqualTo("{\"type\":\"text\",\"version\":1,\"id\":\"m\",\"text\":\"t\"}"); // absent fields omitted
        assertThat(decoder.decodeText(RecordCodec.encode(minimal))).isEqualTo(minimal);
    }

    @Test
    void imageEvents() throws Exception {
        for (ImageEvent e : List.of(Samples.inlineImage(), Samples.uriImage())) {
            assertThat(decoder.decode(RecordCodec.encode(e))).isEqualTo(e);
        }
    }

    @Test
    void corpusRecords() throws Exception {
        for (CorpusRecord r : List.of(Samples.upsert(), Samples.imageUpsert(), Samples.uriImageUpsert(),
                Samples.embeddingUpsert(), Samples.delete())) {
            assertThat(decoder.decodeCorpus(RecordCodec.encode(r))).isEqualTo(r);
        }
        // a precomputed embedding round-trips bit for bit (-0.0, subnormals, the float extremes included)
        CorpusRecord back = decoder.decodeCorpus(RecordCodec.encode(Samples.embeddingUpsert()));
        float[] expected = Samples.embedding();
        assertThat(back.embedding()).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertThat(Float.floatToRawIntBits(back.embedding()[i])).as("value %d", i)
                    .isEqualTo(Float.floatToRawIntBits(expected[i]));
        }
        assertThat(back.model()).isEqualTo("all-minilm-l6-v2");
        assertThat(back.isEmbedding()).isTrue();
        assertThat(back.isImage()).isFalse();
        assertThat(new String(RecordCodec.encode(CorpusRecord.embeddingUpsert("v", new float[] {0.5f, -1f}, "m",
                Map.of(), null)), StandardCharsets.UTF_8)).isEqualTo("{\"type\":\"corpus\",\"version\":1,"
                + "\"doc_id\":\"v\",\"op\":\"upsert\",\"embedding\":[0.5,-1.0],\"model\":\"m\"}");
        assertThat(new String(RecordCodec.encode(Samples.delete()), StandardCharsets.UTF_8))
                .isEqualTo("{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"doc-42\",\"op\":\"delete\"}");
    }

    @Test
    void enrichedEvents() throws Exception {
        for (EnrichedEvent e : List.of(Samples.enrichedText(), Samples.enrichedImage(),
                Samples.enrichedWithRetrieval(), Samples.enrichedWithTopic(), Samples.enrichedNoiseTopic(),
                Samples.enrichedBeforeFirstTree(), Samples.enrichedWithRetrieval().withTopic(
                        Samples.enrichedWithTopic().topic()))) {
            assertThat(RecordCodec.decodeEnriched(RecordCodec.encode(e))).isEqualTo(e);
        }
        EnrichedEvent bare = new EnrichedEvent("i", "image", Samples.SOURCE, Samples.MODEL, null, true, null, null,
                null, null, null, 0);
        assertThat(RecordCodec.decodeEnriched(RecordCodec.encode(bare))).isEqualTo(bare);
    }

    @Test
    void deadLetters() throws Exception {
        for (DeadLetterRecord r : List.of(Samples.deadLetter(), Samples.deadLetterNoKey())) {
            assertThat(RecordCodec.decodeDeadLetter(RecordCodec.encode(r))).isEqualTo(r);
        }
        assertThat(new String(RecordCodec.encode(Samples.deadLetterNoKey()), StandardCharsets.UTF_8))
                .contains("\"key_b64\":null,\"value_b64\":null");
        DeadLetterRecord emptyKey = new DeadLetterRecord(Samples.SOURCE, new byte[0], utf8("x"), ErrorKind.COMPUTE_FAILED,
                "", "compute", 0);
        assertThat(RecordCodec.decodeDeadLetter(RecordCodec.encode(emptyKey))).isEqualTo(emptyKey);
    }

    /** Bytes the encoder wrote for {@link Samples#topicTree()} before the rebuild history existed (main at 2e77550). */
    static final String TREE_BEFORE = "{\"type\":\"topic_tree\",\"version\":1,\"tree_id\":\"tree-2024-11-22T18\","
            + "\"window\":{\"start\":1732298400000,\"end\":1732302000000},\"created_at\":1732302000500,"
            + "\"model\":{\"name\":\"all-minilm-l6-v2\",\"version\":\"1.20.0-beta30\"},\"nodes\":["
            + "{\"id\":0,\"parent\":-1,\"lambda\":0.0,\"size\":120,\"stability\":0.0,\"exemplars\":[]},"
            + "{\"id\":1,\"parent\":0,\"lambda\":0.8125,\"size\":70,\"stability\":3.25,\"label\":\"sports\","
            + "\"exemplars\":[\"msg-1\",\"msg-9\"]},"
            + "{\"id\":2,\"parent\":0,\"lambda\":0.8125,\"size\":50,\"stability\":2.1,\"label\":\"weather\","
            + "\"exemplars\":[\"msg-4\"]},"
            + "{\"id\":3,\"parent\":1,\"lambda\":1.7,\"size\":30,\"stability\":0.1,\"exemplars\":[\"msg-11\"]}]}";

    @Test
    void topicTree() throws Exception {
        for (TopicTreeRecord t : List.of(Samples.topicTree(), Samples.topicTreeWithHistory())) {
            assertThat(RecordCodec.decodeTopicTree(RecordCodec.encode(t))).isEqualTo(t);
        }
        // a tree without history encodes exactly as before the optional fields existed
        assertThat(new String(RecordCodec.encode(Samples.topicTree()), StandardCharsets.UTF_8)).isEqualTo(TREE_BEFORE);
    }

    @Test
    void topicTreeHistoryWireForm() throws Exception {
        String wire = new String(RecordCodec.encode(Samples.topicTreeWithHistory()), StandardCharsets.UTF_8);
        assertThat(wire).startsWith("{\"type\":\"topic_tree\",\"version\":1,\"tree_id\":\"acme|text#7\","
                        + "\"key\":\"acme|text\",\"tree_version\":7,\"window\":")
                .contains("\"model\":{\"name\":\"all-minilm-l6-v2\",\"version\":\"1.20.0-beta30\"},"
                        + "\"noise_share\":0.18,\"churn\":0.25,\"nodes\":[")
                .contains("{\"id\":0,\"parent\":-1,\"lambda\":0.0,\"size\":200,\"stability\":0.0,\"selected\":false,"
                        + "\"exemplars\":[]}")
                .contains("{\"id\":12,\"parent\":4,\"lambda\":1.25,\"size\":30,\"stability\":0.75,\"selected\":true,"
                        + "\"exemplars\":[\"msg-11\"],\"exemplar_texts\":[\"Penalty \\\"shootout\\\"\\nagain, Ünïcödé\"]}")
                .contains("{\"id\":14,\"parent\":0,\"lambda\":0.7,\"size\":20,\"stability\":0.5,\"exemplars\":[\"msg-20\"]}")
                .endsWith("],\"changes\":[{\"kind\":\"split\",\"topic\":12,\"from\":[4]},"
                        + "{\"kind\":\"merged\",\"topic\":13,\"from\":[2,3]},{\"kind\":\"born\",\"topic\":14,\"from\":[]},"
                        + "{\"kind\":\"died\",\"topic\":7,\"from\":[]}]}");
        TopicTreeRecord back = RecordCodec.decodeTopicTree(utf8(wire));
        assertThat(back.key()).isEqualTo("acme|text");
        assertThat(back.treeVersion()).isEqualTo(7);
        assertThat(back.noiseShare()).isEqualTo(0.18);
        assertThat(back.churn()).isEqualTo(0.25);
        assertThat(back.changes()).extracting(TopicTreeRecord.Change::kind)
                .containsExactly("split", "merged", "born", "died");
        assertThat(back.nodes()).extracting(TopicTreeRecord.Node::selected)
                .containsExactly(false, false, true, true, null);
        assertThat(back.nodes().get(3).exemplarTexts()).containsExactly("Storm warning", "");
        assertThat(back.nodes().get(4).exemplarTexts()).isEmpty();
    }

    @Test
    void floatsRoundTripBitForBit() throws Exception {
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[4096];
        for (int i = 0; i < values.length; i++) {
            float f;
            do {
                f = Float.intBitsToFloat(random.nextInt()); // every exponent, subnormals included
            } while (!Float.isFinite(f));
            values[i] = f;
        }
        System.arraycopy(Samples.embedding(), 0, values, 0, Samples.embedding().length);
        EnrichedEvent e = new EnrichedEvent("r", "text", Samples.SOURCE, Samples.MODEL, 1, false, null, values, null,
                List.of(), Map.of(), 1);
        float[] back = RecordCodec.decodeEnriched(RecordCodec.encode(e)).embedding();
        for (int i = 0; i < values.length; i++) {
            assertThat(Float.floatToRawIntBits(back[i])).as("seed %d, index %d, %s", seed, i, values[i])
                    .isEqualTo(Float.floatToRawIntBits(values[i]));
        }
    }

    @Test
    void floatsAreWrittenInTheirShortestForm() {
        EnrichedEvent e = new EnrichedEvent("r", "text", Samples.SOURCE, Samples.MODEL, 1, false, null,
                new float[] {0.1f, 1.0f, -0.0f, 2.0E-45f, 1.0E10f}, null, List.of(), Map.of(), 1);
        assertThat(new String(RecordCodec.encode(e), StandardCharsets.UTF_8))
                .contains("\"embedding\":[0.1,1.0,-0.0,1.4E-45,1.0E10]");
    }

    @Test
    void doublesRoundTripExactly() throws Exception {
        double awkward = 0.1 + 0.2; // 0.30000000000000004
        TopicTreeRecord t = new TopicTreeRecord("t", 0, 0, 0, Samples.MODEL, List.of(
                new TopicTreeRecord.Node(0, -1, awkward, 1, Double.MIN_VALUE, "", List.of())));
        TopicTreeRecord back = RecordCodec.decodeTopicTree(RecordCodec.encode(t));
        assertThat(back.nodes().get(0).lambda()).isEqualTo(awkward);
        assertThat(back.nodes().get(0).stability()).isEqualTo(Double.MIN_VALUE);
    }
}
