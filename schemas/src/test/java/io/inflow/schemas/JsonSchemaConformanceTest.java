package io.inflow.schemas;

import static io.inflow.schemas.Samples.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The JSON Schema files are the contract for non-Java producers and consumers, so they must agree with the
 * codec: encoder output validates, and each hand-written bad example fails both the schema and the Java decoder.
 */
class JsonSchemaConformanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    private static final Map<String, JsonSchema> SCHEMAS = new HashMap<>();
    private static final List<String> FILES = List.of("text-event", "image-event", "corpus-record", "enriched-event",
            "dead-letter", "topic-tree");

    private interface Decoder {
        Object decode(byte[] value) throws RecordRejectedException;
    }

    private static final InputDecoder INPUT = new InputDecoder(Limits.defaults());
    private static final Map<String, Decoder> DECODERS = Map.of(
            "text-event", INPUT::decodeText,
            "image-event", INPUT::decodeImage,
            "corpus-record", INPUT::decodeCorpus,
            "enriched-event", RecordCodec::decodeEnriched,
            "dead-letter", RecordCodec::decodeDeadLetter,
            "topic-tree", RecordCodec::decodeTopicTree);

    private static synchronized JsonSchema schema(String name) {
        return SCHEMAS.computeIfAbsent(name, n -> {
            try (InputStream in = JsonSchemaConformanceTest.class.getResourceAsStream("json/" + n + ".schema.json")) {
                assertThat(in).as("schema file %s", n).isNotNull();
                return FACTORY.getSchema(in);
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    private static Set<ValidationMessage> validate(String schemaName, byte[] json) throws Exception {
        return schema(schemaName).validate(JSON.readTree(json));
    }

    @Test
    void schemaFilesAreValidDraft202012Schemas() throws Exception {
        JsonSchema meta = FACTORY.getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));
        assertThat(meta.validate(JSON.readTree("{\"type\":5,\"required\":\"id\"}"))).as("meta-schema is live").isNotEmpty();
        for (String name : FILES) {
            JsonNode schemaJson;
            try (InputStream in = getClass().getResourceAsStream("json/" + name + ".schema.json")) {
                schemaJson = JSON.readTree(in);
            }
            assertThat(meta.validate(schemaJson)).as(name).isEmpty();
            assertThat(schemaJson.get("$schema").asText()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
            assertThat(schemaJson.get("$id").asText()).endsWith("/" + name + ".schema.json");
        }
    }

    static Stream<Arguments> encodedRecords() {
        return Stream.of(
                Arguments.of("text-event", RecordCodec.encode(Samples.text())),
                Arguments.of("text-event", RecordCodec.encode(new TextEvent("m", "t", null, null, null))),
                Arguments.of("image-event", RecordCodec.encode(Samples.inlineImage())),
                Arguments.of("image-event", RecordCodec.encode(Samples.uriImage())),
                Arguments.of("corpus-record", RecordCodec.encode(Samples.upsert())),
                Arguments.of("corpus-record", RecordCodec.encode(Samples.delete())),
                Arguments.of("corpus-record", RecordCodec.encode(Samples.imageUpsert())),
                Arguments.of("corpus-record", RecordCodec.encode(Samples.uriImageUpsert())),
                Arguments.of("corpus-record", RecordCodec.encode(Samples.embeddingUpsert())),
                Arguments.of("enriched-event", RecordCodec.encode(Samples.enrichedText())),
                Arguments.of("enriched-event", RecordCodec.encode(Samples.enrichedImage())),
                Arguments.of("enriched-event", RecordCodec.encode(Samples.enrichedWithRetrieval())),
                Arguments.of("enriched-event", RecordCodec.encode(Samples.enrichedWithTopic())),
                Arguments.of("enriched-event", RecordCodec.encode(Samples.enrichedNoiseTopic())),
                Arguments.of("enriched-event", RecordCodec.encode(Samples.enrichedBeforeFirstTree())),
                Arguments.of("enriched-event", RecordCodec.encode(Samples.enrichedWithRetrieval()
                        .withTopic(Samples.enrichedWithTopic().topic()))),
                Arguments.of("enriched-event", RecordCodec.encode(Samples.enrichedScored())),
                Arguments.of("dead-letter", RecordCodec.encode(Samples.deadLetter())),
                Arguments.of("dead-letter", RecordCodec.encode(Samples.deadLetterNoKey())),
                Arguments.of("dead-letter", RecordCodec.encode(Samples.deadLetterCut())),
                Arguments.of("topic-tree", RecordCodec.encode(Samples.topicTree())),
                Arguments.of("topic-tree", RecordCodec.encode(Samples.topicTreeWithHistory())));
    }

    @ParameterizedTest(name = "{0} #{index}")
    @MethodSource("encodedRecords")
    void encoderOutputValidates(String schemaName, byte[] encoded) throws Exception {
        assertThat(validate(schemaName, encoded)).isEmpty();
        assertThat(DECODERS.get(schemaName).decode(encoded)).isNotNull();
    }

    static Stream<Arguments> validExamples() {
        return Stream.of(
                Arguments.of("text-event", "{\"type\":\"text\",\"version\":1,\"id\":\"msg-1\",\"text\":\"hello\",\"lang\":\"en\","
                        + "\"event_time\":1732300000000,\"attributes\":{\"k\":\"v\"}}"),
                Arguments.of("text-event", "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"x\",\"added_in_1_1\":{\"a\":[1]}}"),
                Arguments.of("image-event", "{\"type\":\"image\",\"version\":1,\"id\":\"i\",\"image_uri\":\"file:/d/i.png\",\"content_type\":\"image/png\"}"),
                Arguments.of("corpus-record", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"delete\"}"),
                Arguments.of("corpus-record", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"image_uri\":\"file:/d/i.png\",\"content_type\":\"image/png\"}"),
                Arguments.of("corpus-record", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"image_base64\":\"AAAA\"}"),
                Arguments.of("corpus-record", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"embedding\":[0.5,-1,2e-3],\"model\":\"all-minilm-l6-v2\"}"),
                Arguments.of("enriched-event", ENRICHED + ",\"token_count\":1," // the README's retrieval example
                        + "\"neighbours\":[{\"doc_id\":\"doc-42\",\"score\":0.83,\"rank\":1},{\"doc_id\":\"doc-7\",\"score\":0.79,\"rank\":2}],"
                        + "\"index\":{\"metric\":\"cosine\",\"documents\":1200,\"shards\":[{\"shard\":0,\"documents\":610,"
                        + "\"last_offsets\":{\"0\":1523,\"1\":1490}},{\"shard\":1,\"documents\":590,\"last_offsets\":{\"0\":1523,\"1\":-1}}]}}"),
                Arguments.of("enriched-event", ENRICHED + ",\"token_count\":1," + SCORES + "," + SCORER + "}"),
                // the README's topic examples: member, noise, no tree yet; unknown fields inside are allowed
                Arguments.of("enriched-event", ENRICHED + ",\"token_count\":1,\"topic\":{\"id\":12,\"path\":[12,4,1],\"tree_version\":3}}"),
                Arguments.of("enriched-event", ENRICHED + ",\"token_count\":1,\"topic\":{\"path\":[4,1],\"tree_version\":3}}"),
                Arguments.of("enriched-event", ENRICHED + ",\"token_count\":1,\"topic\":{\"path\":[],\"tree_version\":0}}"),
                Arguments.of("enriched-event", ENRICHED + ",\"token_count\":1,\"topic\":{\"id\":0,\"path\":[0],\"tree_version\":1,"
                        + "\"density\":0.5}}"),
                Arguments.of("dead-letter", "{\"type\":\"dead_letter\",\"version\":1,\"source\":{\"topic\":\"events.text\",\"partition\":0,"
                        + "\"offset\":5,\"timestamp\":-1},\"key_b64\":null,\"value_b64\":\"wyg=\",\"error\":{\"kind\":\"invalid_utf8\","
                        + "\"message\":\"invalid UTF-8 at byte offset 0\",\"stage\":\"decode\"},\"failed_at\":1}"),
                Arguments.of("dead-letter", "{\"type\":\"dead_letter\",\"version\":1,\"source\":{\"topic\":\"events.image\",\"partition\":0,"
                        + "\"offset\":5,\"timestamp\":-1},\"key_b64\":null,\"value_b64\":\"e30=\",\"error\":{\"kind\":\"image_too_large\","
                        + "\"message\":\"image is 100000 x 100000 pixels, limit is 16777216\",\"stage\":\"decode\"},\"failed_at\":1}"),
                Arguments.of("topic-tree", TREE_HISTORY), // the README's topic tree example
                Arguments.of("topic-tree", TREE + "[" + ROOT + "],\"changes\":[]}"),
                Arguments.of("topic-tree", TREE.replace("\"tree_id\":\"t\",", "\"tree_id\":\"t\",\"noise_share\":0,\"churn\":1,")
                        + "[" + ROOT.replace("\"exemplars\":[]", "\"exemplars\":[\"a\"],\"exemplar_texts\":[\"\"]") + "]}"));
    }

    @Test
    void deadLetterKindEnumListsEveryErrorKind() throws Exception {
        try (InputStream in = JsonSchemaConformanceTest.class.getResourceAsStream("json/dead-letter.schema.json")) {
            JsonNode kinds = JSON.readTree(in).at("/properties/error/properties/kind/enum");
            List<String> inSchema = new java.util.ArrayList<>();
            kinds.forEach(k -> inSchema.add(k.asText()));
            List<String> inJava = Stream.of(ErrorKind.values()).map(ErrorKind::wireName).toList();
            assertThat(inSchema).containsExactlyElementsOf(inJava);
        }
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("validExamples")
    void handWrittenValidExamplesPassBoth(String schemaName, String json) throws Exception {
        assertThat(validate(schemaName, utf8(json))).isEmpty();
        assertThat(DECODERS.get(schemaName).decode(utf8(json))).isNotNull();
    }

    private static final String SRC = "\"source\":{\"topic\":\"events.text\",\"partition\":0,\"offset\":5,\"timestamp\":1}";
    private static final String MODEL = "\"model\":{\"name\":\"m\",\"version\":\"1\"}";
    private static final String ENRICHED = "{\"type\":\"enriched\",\"version\":1,\"id\":\"a\",\"input_type\":\"text\","
            + SRC + "," + MODEL + ",\"truncated\":false,\"processed_at\":1";
    private static final String DLQ = "{\"type\":\"dead_letter\",\"version\":1," + SRC + ",\"key_b64\":null,\"value_b64\":null,";
    private static final String TREE = "{\"type\":\"topic_tree\",\"version\":1,\"tree_id\":\"t\",\"window\":{\"start\":0,\"end\":10},"
            + "\"created_at\":11," + MODEL + ",\"nodes\":";
    private static final String ROOT = "{\"id\":0,\"parent\":-1,\"lambda\":0,\"size\":5,\"stability\":0,\"exemplars\":[]}";
    /** A rebuilt tree with every history field (the README's example). */
    private static final String TREE_HISTORY = "{\"type\":\"topic_tree\",\"version\":1,\"tree_id\":\"acme|text#7\","
            + "\"key\":\"acme|text\",\"tree_version\":7,\"window\":{\"start\":1732298400000,\"end\":1732302000000},"
            + "\"created_at\":1732302000500,\"model\":{\"name\":\"all-minilm-l6-v2\",\"version\":\"1.20.0-beta30\"},"
            + "\"noise_share\":0.18,\"churn\":0.25,"
            + "\"nodes\":[{\"id\":0,\"parent\":-1,\"lambda\":0.0,\"size\":200,\"stability\":0.0,\"selected\":false,\"exemplars\":[]},"
            + "{\"id\":4,\"parent\":0,\"lambda\":0.5,\"size\":90,\"stability\":1.5,\"selected\":false,\"label\":\"sports\","
            + "\"exemplars\":[\"msg-1\",\"msg-9\"],\"exemplar_texts\":[\"Great match last night\",\"Who won the derby?\"]},"
            + "{\"id\":12,\"parent\":4,\"lambda\":1.25,\"size\":30,\"stability\":0.75,\"selected\":true,"
            + "\"exemplars\":[\"msg-11\"],\"exemplar_texts\":[\"Penalty shootout again\"]}],"
            + "\"changes\":[{\"kind\":\"split\",\"topic\":12,\"from\":[4]},{\"kind\":\"died\",\"topic\":7,\"from\":[]}]}";

    private static final String SCORES = "\"scores\":[{\"label\":\"spam\",\"score\":0.9},{\"label\":\"ham\",\"score\":0.1}]";
    private static final String SCORER = "\"scorer\":{\"name\":\"spam-ham-minilm\",\"version\":\"1\",\"precision\":\"int8\"}";

    /** A text enriched event whose {@code topic} object has the given fields. */
    private static String topic(String fields) {
        return ENRICHED + ",\"token_count\":1,\"topic\":{" + fields + "}}";
    }

    /** {@link #TREE_HISTORY} with {@code from} replaced by {@code to} (which must occur exactly once). */
    private static String history(String from, String to) {
        if (TREE_HISTORY.indexOf(from) < 0 || TREE_HISTORY.indexOf(from) != TREE_HISTORY.lastIndexOf(from)) {
            throw new AssertionError("not exactly once in TREE_HISTORY: " + from);
        }
        return TREE_HISTORY.replace(from, to);
    }

    private static String index(String metric, long documents, String shards) {
        return "\"index\":{\"metric\":\"" + metric + "\",\"documents\":" + documents + ",\"shards\":[" + shards + "]}}";
    }

    static Stream<Arguments> invalidExamples() {
        return Stream.of(
                // text
                Arguments.of("text-event", "number for id", "{\"type\":\"text\",\"version\":1,\"id\":42,\"text\":\"x\"}"),
                Arguments.of("text-event", "empty id", "{\"type\":\"text\",\"version\":1,\"id\":\"\",\"text\":\"x\"}"),
                Arguments.of("text-event", "control char in id", "{\"type\":\"text\",\"version\":1,\"id\":\"a\\u0001b\",\"text\":\"x\"}"),
                Arguments.of("text-event", "id too long", "{\"type\":\"text\",\"version\":1,\"id\":\"" + "a".repeat(129) + "\",\"text\":\"x\"}"),
                Arguments.of("text-event", "missing text", "{\"type\":\"text\",\"version\":1,\"id\":\"a\"}"),
                Arguments.of("text-event", "blank text", "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\" \\n\\u3000\"}"),
                Arguments.of("text-event", "empty text", "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"\"}"),
                Arguments.of("text-event", "control characters only",
                        "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"\\u0000\\u0007 \\u0085\"}"),
                Arguments.of("text-event", "format characters only",
                        "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"\\u200b\\ufeff\\u2060\"}"),
                Arguments.of("text-event", "version 2", "{\"type\":\"text\",\"version\":2,\"id\":\"a\",\"text\":\"x\"}"),
                Arguments.of("text-event", "type audio", "{\"type\":\"audio\",\"version\":1,\"id\":\"a\",\"text\":\"x\"}"),
                Arguments.of("text-event", "missing type", "{\"version\":1,\"id\":\"a\",\"text\":\"x\"}"),
                Arguments.of("text-event", "lang sentence", "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"x\",\"lang\":\"English!\"}"),
                Arguments.of("text-event", "negative event_time", "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"x\",\"event_time\":-1}"),
                Arguments.of("text-event", "string event_time", "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"x\",\"event_time\":\"1\"}"),
                Arguments.of("text-event", "null lang", "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"x\",\"lang\":null}"),
                Arguments.of("text-event", "number attribute", "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"x\",\"attributes\":{\"k\":1}}"),
                Arguments.of("text-event", "long attribute value", "{\"type\":\"text\",\"version\":1,\"id\":\"a\",\"text\":\"x\",\"attributes\":{\"k\":\""
                        + "v".repeat(1025) + "\"}}"),
                // image
                Arguments.of("image-event", "both sources", "{\"type\":\"image\",\"version\":1,\"id\":\"i\",\"image_base64\":\"AAAA\",\"image_uri\":\"file:/a\"}"),
                Arguments.of("image-event", "no source", "{\"type\":\"image\",\"version\":1,\"id\":\"i\"}"),
                Arguments.of("image-event", "http uri", "{\"type\":\"image\",\"version\":1,\"id\":\"i\",\"image_uri\":\"https://x/y.png\"}"),
                Arguments.of("image-event", "not base64", "{\"type\":\"image\",\"version\":1,\"id\":\"i\",\"image_base64\":\"ab$d\"}"),
                Arguments.of("image-event", "bad content type", "{\"type\":\"image\",\"version\":1,\"id\":\"i\",\"image_uri\":\"file:/a\",\"content_type\":\"png\"}"),
                // corpus
                Arguments.of("corpus-record", "delete with text", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"delete\",\"text\":\"x\"}"),
                Arguments.of("corpus-record", "upsert without text", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\"}"),
                Arguments.of("corpus-record", "unknown op", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"merge\",\"text\":\"x\"}"),
                Arguments.of("corpus-record", "text and image", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"text\":\"x\",\"image_base64\":\"AAAA\"}"),
                Arguments.of("corpus-record", "both image sources", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"image_base64\":\"AAAA\",\"image_uri\":\"file:/a\"}"),
                Arguments.of("corpus-record", "delete with image", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"delete\",\"image_uri\":\"file:/a\"}"),
                Arguments.of("corpus-record", "text with content type", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"text\":\"x\",\"content_type\":\"image/png\"}"),
                Arguments.of("corpus-record", "http image uri", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"image_uri\":\"https://x/y.png\"}"),
                Arguments.of("corpus-record", "embedding without model", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"embedding\":[0.5]}"),
                Arguments.of("corpus-record", "model without embedding", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"text\":\"x\",\"model\":\"m\"}"),
                Arguments.of("corpus-record", "text and embedding", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"text\":\"x\",\"embedding\":[0.5],\"model\":\"m\"}"),
                Arguments.of("corpus-record", "empty embedding", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"embedding\":[],\"model\":\"m\"}"),
                Arguments.of("corpus-record", "string in embedding", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"embedding\":[\"0.5\"],\"model\":\"m\"}"),
                Arguments.of("corpus-record", "embedding not an array", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"embedding\":0.5,\"model\":\"m\"}"),
                Arguments.of("corpus-record", "empty model", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"embedding\":[0.5],\"model\":\"\"}"),
                Arguments.of("corpus-record", "embedding with content type", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"upsert\",\"embedding\":[0.5],\"model\":\"m\",\"content_type\":\"image/png\"}"),
                Arguments.of("corpus-record", "delete with embedding", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"delete\",\"embedding\":[0.5],\"model\":\"m\"}"),
                Arguments.of("corpus-record", "delete with model", "{\"type\":\"corpus\",\"version\":1,\"doc_id\":\"d\",\"op\":\"delete\",\"model\":\"m\"}"),
                Arguments.of("corpus-record", "missing doc_id", "{\"type\":\"corpus\",\"version\":1,\"op\":\"delete\"}"),
                // enriched
                Arguments.of("enriched-event", "text without token_count", ENRICHED + "}"),
                Arguments.of("enriched-event", "both embeddings", ENRICHED + ",\"token_count\":3,\"embedding\":[0.5],\"embedding_f16_b64\":\"ADg=\"}"),
                Arguments.of("enriched-event", "string in embedding", ENRICHED + ",\"token_count\":3,\"embedding\":[\"0.5\"]}"),
                Arguments.of("enriched-event", "negative token_count", ENRICHED + ",\"token_count\":-3}"),
                Arguments.of("enriched-event", "score without label", ENRICHED + ",\"token_count\":3,\"scores\":[{\"score\":0.5}]}"),
                Arguments.of("enriched-event", "input_type audio", ENRICHED.replace("\"input_type\":\"text\"", "\"input_type\":\"audio\"") + ",\"token_count\":1}"),
                Arguments.of("enriched-event", "negative partition", ENRICHED.replace("\"partition\":0", "\"partition\":-1") + ",\"token_count\":1}"),
                Arguments.of("enriched-event", "missing processed_at", ENRICHED.replace(",\"processed_at\":1", "") + ",\"token_count\":1}"),
                Arguments.of("enriched-event", "neighbours not an array", ENRICHED + ",\"token_count\":1,\"neighbours\":{}}"),
                Arguments.of("enriched-event", "neighbour rank 0", ENRICHED + ",\"token_count\":1,\"neighbours\":["
                        + "{\"doc_id\":\"d\",\"score\":0.5,\"rank\":0}]}"),
                Arguments.of("enriched-event", "neighbour without doc_id", ENRICHED + ",\"token_count\":1,\"neighbours\":["
                        + "{\"score\":0.5,\"rank\":1}]}"),
                Arguments.of("enriched-event", "neighbour with empty doc_id", ENRICHED + ",\"token_count\":1,\"neighbours\":["
                        + "{\"doc_id\":\"\",\"score\":0.5,\"rank\":1}]}"),
                Arguments.of("enriched-event", "neighbour score as string", ENRICHED + ",\"token_count\":1,\"neighbours\":["
                        + "{\"doc_id\":\"d\",\"score\":\"0.5\",\"rank\":1}]}"),
                Arguments.of("enriched-event", "unknown metric", ENRICHED + ",\"token_count\":1," + index("euclidean", 5,
                        "{\"shard\":0,\"documents\":5,\"last_offsets\":{}}")),
                Arguments.of("enriched-event", "index without shards", ENRICHED + ",\"token_count\":1,"
                        + "\"index\":{\"metric\":\"l2\",\"documents\":5}}"),
                Arguments.of("enriched-event", "negative index documents", ENRICHED + ",\"token_count\":1," + index("l2", -1, "")),
                Arguments.of("enriched-event", "negative shard documents", ENRICHED + ",\"token_count\":1," + index("l2", 5,
                        "{\"shard\":0,\"documents\":-5,\"last_offsets\":{}}")),
                Arguments.of("enriched-event", "shard without last_offsets", ENRICHED + ",\"token_count\":1," + index("l2", 5,
                        "{\"shard\":0,\"documents\":5}")),
                Arguments.of("enriched-event", "offset below -1", ENRICHED + ",\"token_count\":1," + index("l2", 5,
                        "{\"shard\":0,\"documents\":5,\"last_offsets\":{\"0\":-2}}")),
                Arguments.of("enriched-event", "partition key with a leading zero", ENRICHED + ",\"token_count\":1," + index("l2", 5,
                        "{\"shard\":0,\"documents\":5,\"last_offsets\":{\"01\":3}}")),
                Arguments.of("enriched-event", "partition key not a number", ENRICHED + ",\"token_count\":1," + index("l2", 5,
                        "{\"shard\":0,\"documents\":5,\"last_offsets\":{\"p0\":3}}")),
                Arguments.of("enriched-event", "topic not an object", ENRICHED + ",\"token_count\":1,\"topic\":12}"),
                Arguments.of("enriched-event", "topic without path", topic("\"id\":12,\"tree_version\":3")),
                Arguments.of("enriched-event", "topic without tree_version", topic("\"id\":12,\"path\":[12,4,1]")),
                Arguments.of("enriched-event", "negative topic id", topic("\"id\":-1,\"path\":[12,4,1],\"tree_version\":3")),
                Arguments.of("enriched-event", "topic id as string", topic("\"id\":\"12\",\"path\":[12,4,1],\"tree_version\":3")),
                Arguments.of("enriched-event", "null topic id", topic("\"id\":null,\"path\":[12,4,1],\"tree_version\":3")),
                Arguments.of("enriched-event", "topic id with empty path", topic("\"id\":12,\"path\":[],\"tree_version\":0")),
                Arguments.of("enriched-event", "topic path not an array", topic("\"id\":12,\"path\":12,\"tree_version\":3")),
                Arguments.of("enriched-event", "string in topic path", topic("\"id\":12,\"path\":[12,4,\"1\"],\"tree_version\":3")),
                Arguments.of("enriched-event", "negative node in topic path", topic("\"path\":[4,-1],\"tree_version\":3")),
                Arguments.of("enriched-event", "topic path too long", topic("\"path\":["
                        + "0,".repeat(EnrichedEvent.MAX_TOPIC_PATH) + "0],\"tree_version\":3")),
                Arguments.of("enriched-event", "tree_version 0 with a path", topic("\"path\":[4,1],\"tree_version\":0")),
                Arguments.of("enriched-event", "negative tree_version", topic("\"path\":[],\"tree_version\":-1")),
                Arguments.of("enriched-event", "tree_version as string", topic("\"path\":[4,1],\"tree_version\":\"3\"")),
                Arguments.of("enriched-event", "scorer without scores", ENRICHED + ",\"token_count\":1," + SCORER + "}"),
                Arguments.of("enriched-event", "scorer precision fp16", ENRICHED + ",\"token_count\":1," + SCORES + ","
                        + SCORER.replace("int8", "fp16") + "}"),
                Arguments.of("enriched-event", "scorer without version", ENRICHED + ",\"token_count\":1," + SCORES + ","
                        + SCORER.replace("\"version\":\"1\",", "") + "}"),
                // dead letter
                Arguments.of("dead-letter", "unknown error kind", DLQ + "\"error\":{\"kind\":\"boom\",\"message\":\"m\",\"stage\":\"decode\"},\"failed_at\":1}"),
                Arguments.of("dead-letter", "missing stage", DLQ + "\"error\":{\"kind\":\"empty_record\",\"message\":\"m\"},\"failed_at\":1}"),
                Arguments.of("dead-letter", "missing key_b64", DLQ.replace("\"key_b64\":null,", "")
                        + "\"error\":{\"kind\":\"empty_record\",\"message\":\"m\",\"stage\":\"decode\"},\"failed_at\":1}"),
                Arguments.of("dead-letter", "number as value_b64", DLQ.replace("\"value_b64\":null", "\"value_b64\":12")
                        + "\"error\":{\"kind\":\"empty_record\",\"message\":\"m\",\"stage\":\"decode\"},\"failed_at\":1}"),
                // topic tree
                Arguments.of("topic-tree", "no root", TREE + "[{\"id\":0,\"parent\":1,\"lambda\":0,\"size\":5,\"stability\":0,\"exemplars\":[]}]}"),
                Arguments.of("topic-tree", "two roots", TREE + "[" + ROOT + "," + ROOT.replace("\"id\":0", "\"id\":1") + "]}"),
                Arguments.of("topic-tree", "no nodes", TREE + "[]}"),
                Arguments.of("topic-tree", "negative lambda", TREE + "[" + ROOT.replace("\"lambda\":0", "\"lambda\":-1") + "]}"),
                Arguments.of("topic-tree", "parent below -1", TREE + "[" + ROOT + ",{\"id\":1,\"parent\":-2,\"lambda\":1,\"size\":2,"
                        + "\"stability\":0,\"exemplars\":[]}]}"),
                Arguments.of("topic-tree", "exemplar not a string", TREE + "[" + ROOT.replace("[]", "[7]") + "]}"),
                Arguments.of("topic-tree", "missing window", TREE.replace("\"window\":{\"start\":0,\"end\":10},", "") + "[" + ROOT + "]}"),
                Arguments.of("topic-tree", "change kind exploded", history("\"kind\":\"split\"", "\"kind\":\"exploded\"")),
                Arguments.of("topic-tree", "change without kind", history("\"kind\":\"died\",", "")),
                Arguments.of("topic-tree", "change without from", history(",\"from\":[4]", "")),
                Arguments.of("topic-tree", "change without topic", history("\"topic\":12,", "")),
                Arguments.of("topic-tree", "negative change topic", history("\"topic\":7", "\"topic\":-7")),
                Arguments.of("topic-tree", "negative id in from", history("\"from\":[4]", "\"from\":[-4]")),
                Arguments.of("topic-tree", "string id in from", history("\"from\":[4]", "\"from\":[\"4\"]")),
                Arguments.of("topic-tree", "change not an object", history("{\"kind\":\"died\",\"topic\":7,\"from\":[]}", "7")),
                Arguments.of("topic-tree", "changes not an array", history("\"changes\":[", "\"changes\":{\"c\":[").replace("]}]}", "]}]}}")),
                Arguments.of("topic-tree", "noise_share 1.5", history("\"noise_share\":0.18", "\"noise_share\":1.5")),
                Arguments.of("topic-tree", "negative noise_share", history("\"noise_share\":0.18", "\"noise_share\":-0.1")),
                Arguments.of("topic-tree", "null noise_share", history("\"noise_share\":0.18", "\"noise_share\":null")),
                Arguments.of("topic-tree", "churn above 1", history("\"churn\":0.25", "\"churn\":1.01")),
                Arguments.of("topic-tree", "string churn", history("\"churn\":0.25", "\"churn\":\"0.25\"")),
                Arguments.of("topic-tree", "tree_version 0", history("\"tree_version\":7", "\"tree_version\":0")),
                Arguments.of("topic-tree", "string tree_version", history("\"tree_version\":7", "\"tree_version\":\"7\"")),
                Arguments.of("topic-tree", "empty key", history("\"key\":\"acme|text\"", "\"key\":\"\"")),
                Arguments.of("topic-tree", "number key", history("\"key\":\"acme|text\"", "\"key\":42")),
                Arguments.of("topic-tree", "string selected", history("\"selected\":true", "\"selected\":\"true\"")),
                Arguments.of("topic-tree", "exemplar text not a string", history("[\"Penalty shootout again\"]", "[7]")),
                Arguments.of("topic-tree", "exemplar_texts not an array", history("[\"Penalty shootout again\"]",
                        "\"Penalty shootout again\"")));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("invalidExamples")
    void handWrittenInvalidExamplesFailBoth(String schemaName, String why, String json) throws Exception {
        assertThat(validate(schemaName, utf8(json))).as("schema must reject: %s", why).isNotEmpty();
        assertThatThrownBy(() -> DECODERS.get(schemaName).decode(utf8(json))).as("decoder must reject: %s", why)
                .isInstanceOf(RecordRejectedException.class);
    }

    @Test
    void retrievalOrderRulesBeyondTheSchemaAreTheDecodersJob() throws Exception {
        // Ranks 1..n, scores non-increasing and shards ascending relate array elements: the schema cannot say it.
        String n1 = "{\"doc_id\":\"a\",\"score\":0.9,\"rank\":1}";
        String shard0 = "{\"shard\":0,\"documents\":5,\"last_offsets\":{\"0\":7}}";
        for (String json : List.of(
                ENRICHED + ",\"token_count\":1,\"neighbours\":[" + n1 + ",{\"doc_id\":\"b\",\"score\":0.8,\"rank\":3}]}",
                ENRICHED + ",\"token_count\":1,\"neighbours\":[" + n1 + ",{\"doc_id\":\"b\",\"score\":0.95,\"rank\":2}]}",
                ENRICHED + ",\"token_count\":1," + index("cosine", 10, shard0 + "," + shard0),
                ENRICHED + ",\"token_count\":1," + index("cosine", 10, shard0.replace("\"shard\":0", "\"shard\":1") + "," + shard0))) {
            assertThat(validate("enriched-event", utf8(json))).as(json).isEmpty();
            assertThatThrownBy(() -> RecordCodec.decodeEnriched(utf8(json))).as(json)
                    .isInstanceOfSatisfying(RecordRejectedException.class,
                            e -> assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_FIELD));
        }
    }

    @Test
    void topicIdInPathIsTheDecodersJob() throws Exception {
        // "id is one of path" relates a field to an array's elements: the schema cannot say it.
        String json = topic("\"id\":7,\"path\":[12,4,1],\"tree_version\":3");
        assertThat(validate("enriched-event", utf8(json))).isEmpty();
        assertThatThrownBy(() -> RecordCodec.decodeEnriched(utf8(json)))
                .isInstanceOfSatisfying(RecordRejectedException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_FIELD);
                    assertThat(e.getMessage()).contains("'topic.id'");
                });
    }

    @Test
    void structuralTreeRulesBeyondTheSchemaAreTheDecodersJob() throws Exception {
        // A parent that does not exist passes the schema (it cannot express references) but not the decoder.
        String orphan = TREE + "[" + ROOT + ",{\"id\":1,\"parent\":9,\"lambda\":1,\"size\":2,\"stability\":0,\"exemplars\":[]}]}";
        assertThat(validate("topic-tree", utf8(orphan))).isEmpty();
        assertThatThrownBy(() -> RecordCodec.decodeTopicTree(utf8(orphan))).isInstanceOf(RecordRejectedException.class);
        // One exemplar text per exemplar relates two arrays: the schema cannot say it either.
        for (String json : List.of(history("[\"Penalty shootout again\"]", "[\"Penalty\",\"shootout\"]"),
                history(",\"Who won the derby?\"", ""))) {
            assertThat(validate("topic-tree", utf8(json))).as(json).isEmpty();
            assertThatThrownBy(() -> RecordCodec.decodeTopicTree(utf8(json))).as(json)
                    .isInstanceOfSatisfying(RecordRejectedException.class, e -> {
                        assertThat(e.kind()).isEqualTo(ErrorKind.INVALID_FIELD);
                        assertThat(e.getMessage()).contains("exemplar_texts");
                    });
        }
    }
}
