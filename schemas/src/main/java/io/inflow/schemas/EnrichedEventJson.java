package io.inflow.schemas;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Wire form of {@link EnrichedEvent}. */
final class EnrichedEventJson {
    private EnrichedEventJson() {
    }

    static void write(JsonGenerator g, EnrichedEvent e) throws IOException {
        g.writeStartObject();
        Json.writeHeader(g, WireFormat.TYPE_ENRICHED);
        g.writeStringField("id", e.id());
        g.writeStringField("input_type", e.inputType());
        Json.writeSource(g, e.source());
        Json.writeModel(g, e.model());
        Json.writeOptional(g, "token_count", e.tokenCount());
        g.writeBooleanField("truncated", e.truncated());
        Json.writeOptional(g, "embedding_dim", e.embeddingDim());
        if (e.embedding() != null) {
            g.writeArrayFieldStart("embedding");
            for (float v : e.embedding()) {
                g.writeNumber(v); // shortest text that parses back to the same float
            }
            g.writeEndArray();
        }
        Json.writeOptional(g, "embedding_f16_b64", e.embeddingF16Base64());
        if (!e.scores().isEmpty()) {
            g.writeArrayFieldStart("scores");
            for (EnrichedEvent.Score s : e.scores()) {
                g.writeStartObject();
                g.writeStringField("label", s.label());
                g.writeNumberField("score", s.score());
                g.writeEndObject();
            }
            g.writeEndArray();
        }
        writeNeighbours(g, e.neighbours());
        writeIndex(g, e.index());
        writeTopic(g, e.topic());
        if (e.scorer() != null) {
            g.writeObjectFieldStart("scorer");
            g.writeStringField("name", e.scorer().name());
            g.writeStringField("version", e.scorer().version());
            g.writeStringField("precision", e.scorer().precision());
            g.writeEndObject();
        }
        Json.writeAttributes(g, e.attributes());
        g.writeNumberField("processed_at", e.processedAt());
        g.writeEndObject();
    }

    private static void writeNeighbours(JsonGenerator g, List<EnrichedEvent.Neighbour> neighbours)
            throws IOException {
        if (neighbours.isEmpty()) {
            return;
        }
        g.writeArrayFieldStart("neighbours");
        for (EnrichedEvent.Neighbour n : neighbours) {
            g.writeStartObject();
            g.writeStringField("doc_id", n.docId());
            g.writeNumberField("score", n.score());
            g.writeNumberField("rank", n.rank());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void writeIndex(JsonGenerator g, EnrichedEvent.IndexState index) throws IOException {
        if (index == null) {
            return;
        }
        g.writeObjectFieldStart("index");
        g.writeStringField("metric", index.metric());
        g.writeNumberField("documents", index.documents());
        g.writeArrayFieldStart("shards");
        for (EnrichedEvent.ShardState s : index.shards()) {
            g.writeStartObject();
            g.writeNumberField("shard", s.shard());
            g.writeNumberField("documents", s.documents());
            g.writeObjectFieldStart("last_offsets");
            for (Map.Entry<Integer, Long> e : s.lastOffsets().entrySet()) { // sorted by partition
                g.writeNumberField(Integer.toString(e.getKey()), e.getValue());
            }
            g.writeEndObject();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    /** Written whenever set: {@code path} and {@code tree_version} always (so "no tree yet" shows), {@code id} when set. */
    private static void writeTopic(JsonGenerator g, EnrichedEvent.TopicRef topic) throws IOException {
        if (topic == null) {
            return;
        }
        g.writeObjectFieldStart("topic");
        Json.writeOptional(g, "id", topic.id());
        g.writeArrayFieldStart("path");
        for (int node : topic.path()) {
            g.writeNumber(node);
        }
        g.writeEndArray();
        g.writeNumberField("tree_version", topic.treeVersion());
        g.writeEndObject();
    }

    static EnrichedEvent read(JsonFields f) throws RecordRejectedException {
        String id = f.requiredNonEmptyString("id");
        String inputType = f.requiredString("input_type");
        if (!EnrichedEvent.INPUT_TEXT.equals(inputType) && !EnrichedEvent.INPUT_IMAGE.equals(inputType)) {
            throw invalid("field 'input_type' is '" + inputType + "', must be 'text' or 'image'");
        }
        SourceRef source = RefsJson.source(f);
        ModelRef model = RefsJson.model(f);
        Integer tokenCount = f.optionalInt("token_count", 0);
        if (tokenCount == null && EnrichedEvent.INPUT_TEXT.equals(inputType)) {
            throw new RecordRejectedException(ErrorKind.MISSING_FIELD,
                    "field 'token_count' is missing, it is required when input_type is 'text'");
        }
        boolean truncated = f.requiredBoolean("truncated");
        Integer dim = f.optionalInt("embedding_dim", 1);
        float[] embedding = floats(f.optionalArray("embedding"));
        String f16 = f.optionalString("embedding_f16_b64");
        if (embedding != null && f16 != null) {
            throw invalid("fields 'embedding' and 'embedding_f16_b64' are both present, at most one is allowed");
        }
        if (f16 != null) {
            FieldRules.base64("embedding_f16_b64", f16, Integer.MAX_VALUE, null);
            if (Base64Text.decodedLength(f16) % 2 != 0) {
                throw invalid("field 'embedding_f16_b64' decodes to an odd number of bytes, float16 needs 2 per value");
            }
        }
        int length = embedding != null ? embedding.length : f16 != null ? Float16.decodedLength(f16) : -1;
        if (dim != null && length >= 0 && dim != length) {
            throw invalid("field 'embedding_dim' is " + dim + " but the embedding has " + length + " values");
        }
        List<EnrichedEvent.Score> scores = scores(f, f.optionalArray("scores"));
        var attributes = f.stringMap("attributes");
        long processedAt = f.requiredLong("processed_at", 0);
        List<EnrichedEvent.Neighbour> neighbours = neighbours(f, f.optionalArray("neighbours"));
        EnrichedEvent.IndexState index = index(f.optionalObject("index"));
        EnrichedEvent.TopicRef topic = topic(f.optionalObject("topic"));
        ScorerRef scorer = scorer(f.optionalObject("scorer"));
        if (scorer != null && scores.isEmpty()) {
            throw invalid("field 'scorer' is present but 'scores' is empty: a scorer names the model of the scores");
        }
        return new EnrichedEvent(id, inputType, source, model, tokenCount, truncated, dim, embedding, f16, scores,
                attributes, processedAt, neighbours, index, topic, scorer);
    }

    private static ScorerRef scorer(JsonFields f) throws RecordRejectedException {
        if (f == null) {
            return null;
        }
        String precision = f.requiredNonEmptyString("precision");
        if (!ScorerRef.PRECISIONS.contains(precision)) {
            throw invalid("field 'scorer.precision' is '" + precision + "', must be float32, int8 or mixed");
        }
        return new ScorerRef(f.requiredNonEmptyString("name"), f.requiredNonEmptyString("version"), precision);
    }

    private static List<EnrichedEvent.Neighbour> neighbours(JsonFields f, ArrayNode array)
            throws RecordRejectedException {
        if (array == null) {
            return List.of();
        }
        if (array.size() > EnrichedEvent.MAX_NEIGHBOURS) {
            throw invalid("field 'neighbours' has " + array.size() + " entries, limit is "
                    + EnrichedEvent.MAX_NEIGHBOURS);
        }
        List<EnrichedEvent.Neighbour> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonFields n = f.element("neighbours", array, i);
            out.add(new EnrichedEvent.Neighbour(n.requiredNonEmptyString("doc_id"),
                    n.requiredFiniteDouble("score", Double.NEGATIVE_INFINITY), n.requiredInt("rank", 1)));
        }
        String problem = EnrichedEvent.neighboursProblem(out);
        if (problem != null) {
            throw invalid("field 'neighbours': " + problem);
        }
        return out;
    }

    private static EnrichedEvent.IndexState index(JsonFields f) throws RecordRejectedException {
        if (f == null) {
            return null;
        }
        String metric = f.requiredString("metric");
        if (!EnrichedEvent.IndexState.knownMetric(metric)) {
            throw invalid("field '" + f.path("metric") + "' is '" + metric
                    + "', must be 'inner_product', 'cosine' or 'l2'");
        }
        long documents = f.requiredLong("documents", 0);
        ArrayNode array = f.requiredArray("shards");
        if (array.size() > EnrichedEvent.IndexState.MAX_SHARDS) {
            throw invalid("field '" + f.path("shards") + "' has " + array.size() + " entries, limit is "
                    + EnrichedEvent.IndexState.MAX_SHARDS);
        }
        List<EnrichedEvent.ShardState> shards = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonFields s = f.element("shards", array, i);
            shards.add(new EnrichedEvent.ShardState(s.requiredInt("shard", 0), s.requiredLong("documents", 0),
                    lastOffsets(s)));
        }
        String problem = EnrichedEvent.IndexState.shardsProblem(shards);
        if (problem != null) {
            throw invalid("field '" + f.path("shards") + "': " + problem);
        }
        return new EnrichedEvent.IndexState(metric, documents, shards);
    }

    private static EnrichedEvent.TopicRef topic(JsonFields f) throws RecordRejectedException {
        if (f == null) {
            return null;
        }
        Integer id = f.optionalInt("id", 0);
        ArrayNode array = f.requiredArray("path");
        if (array.size() > EnrichedEvent.MAX_TOPIC_PATH) {
            throw invalid("field '" + f.path("path") + "' has " + array.size() + " entries, limit is "
                    + EnrichedEvent.MAX_TOPIC_PATH);
        }
        List<Integer> path = f.intList("path", array, 0);
        long treeVersion = f.requiredLong("tree_version", 0);
        if (!path.isEmpty() && treeVersion == 0) {
            throw invalid("field '" + f.path("tree_version") + "' is 0, must be >= 1 when '" + f.path("path")
                    + "' is not empty (0 only before the first tree, with an empty path)");
        }
        if (id != null && !path.contains(id)) {
            throw invalid("field '" + f.path("id") + "' is " + id + ", not in '" + f.path("path") + "' " + path
                    + ": the flat topic must be one of the nodes the event joined");
        }
        return new EnrichedEvent.TopicRef(id, path, treeVersion);
    }

    /** Object {@code last_offsets}: partition number (decimal, no sign or leading zero) to last offset (>= -1). */
    private static Map<Integer, Long> lastOffsets(JsonFields shard) throws RecordRejectedException {
        String field = shard.path("last_offsets");
        JsonFields f = shard.requiredObject("last_offsets");
        List<String> partitions = f.names();
        if (partitions.size() > EnrichedEvent.ShardState.MAX_PARTITIONS) {
            throw invalid("field '" + field + "' has " + partitions.size() + " partitions, limit is "
                    + EnrichedEvent.ShardState.MAX_PARTITIONS);
        }
        Map<Integer, Long> out = new TreeMap<>();
        for (String partition : partitions) {
            out.put(partition(field, partition), f.requiredLong(partition, -1));
        }
        return out;
    }

    private static int partition(String field, String key) throws RecordRejectedException {
        boolean digits = !key.isEmpty() && key.length() <= 10 && key.chars().allMatch(c -> c >= '0' && c <= '9')
                && (key.length() == 1 || key.charAt(0) != '0');
        long value = digits ? Long.parseLong(key) : -1;
        if (value < 0 || value > Integer.MAX_VALUE) {
            throw invalid("field '" + field + "' has key '" + key + "', must be a partition number 0, 1, 2..."
                    + " (no sign, no leading zero, at most " + Integer.MAX_VALUE + ")");
        }
        return (int) value;
    }

    private static float[] floats(ArrayNode array) throws RecordRejectedException {
        if (array == null) {
            return null;
        }
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = array.get(i);
            if (!v.isNumber()) {
                throw invalid("field 'embedding[" + i + "]' must be a number, got " + JsonFields.typeName(v));
            }
            out[i] = Float.parseFloat(v.asText()); // parse the decimal text once: exact round trip
            if (!Float.isFinite(out[i])) {
                throw invalid("field 'embedding[" + i + "]' is " + v.asText() + ", outside the float range");
            }
        }
        return out;
    }

    private static List<EnrichedEvent.Score> scores(JsonFields f, ArrayNode array) throws RecordRejectedException {
        if (array == null) {
            return List.of();
        }
        List<EnrichedEvent.Score> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonFields s = f.element("scores", array, i);
            out.add(new EnrichedEvent.Score(s.requiredNonEmptyString("label"),
                    s.requiredFiniteDouble("score", Double.NEGATIVE_INFINITY)));
        }
        return out;
    }

    private static RecordRejectedException invalid(String message) {
        return new RecordRejectedException(ErrorKind.INVALID_FIELD, message);
    }
}
