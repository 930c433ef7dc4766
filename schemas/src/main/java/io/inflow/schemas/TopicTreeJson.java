package io.inflow.schemas;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Wire form of {@link TopicTreeRecord}. */
final class TopicTreeJson {
    private TopicTreeJson() {
    }

    static void write(JsonGenerator g, TopicTreeRecord r) throws IOException {
        g.writeStartObject();
        Json.writeHeader(g, WireFormat.TYPE_TOPIC_TREE);
        g.writeStringField("tree_id", r.treeId());
        Json.writeOptional(g, "key", r.key());
        if (r.treeVersion() != 0) {
            g.writeNumberField("tree_version", r.treeVersion());
        }
        g.writeObjectFieldStart("window");
        g.writeNumberField("start", r.windowStart());
        g.writeNumberField("end", r.windowEnd());
        g.writeEndObject();
        g.writeNumberField("created_at", r.createdAt());
        Json.writeModel(g, r.model());
        Json.writeOptional(g, "noise_share", r.noiseShare());
        Json.writeOptional(g, "churn", r.churn());
        g.writeArrayFieldStart("nodes");
        for (TopicTreeRecord.Node n : r.nodes()) {
            g.writeStartObject();
            g.writeNumberField("id", n.id());
            g.writeNumberField("parent", n.parent());
            g.writeNumberField("lambda", n.lambda());
            g.writeNumberField("size", n.size());
            g.writeNumberField("stability", n.stability());
            Json.writeOptional(g, "selected", n.selected());
            Json.writeOptional(g, "label", n.label());
            writeStrings(g, "exemplars", n.exemplars());
            if (!n.exemplarTexts().isEmpty()) {
                writeStrings(g, "exemplar_texts", n.exemplarTexts());
            }
            g.writeEndObject();
        }
        g.writeEndArray();
        writeChanges(g, r.changes());
        g.writeEndObject();
    }

    private static void writeStrings(JsonGenerator g, String name, List<String> values) throws IOException {
        g.writeArrayFieldStart(name);
        for (String v : values) {
            g.writeString(v);
        }
        g.writeEndArray();
    }

    private static void writeChanges(JsonGenerator g, List<TopicTreeRecord.Change> changes) throws IOException {
        if (changes.isEmpty()) {
            return;
        }
        g.writeArrayFieldStart("changes");
        for (TopicTreeRecord.Change c : changes) {
            g.writeStartObject();
            g.writeStringField("kind", c.kind());
            g.writeNumberField("topic", c.topic());
            g.writeArrayFieldStart("from");
            for (int id : c.from()) {
                g.writeNumber(id);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    static TopicTreeRecord read(JsonFields f) throws RecordRejectedException {
        String treeId = f.requiredNonEmptyString("tree_id");
        String key = f.optionalString("key");
        if (key != null && key.isEmpty()) {
            throw invalid("field 'key' is empty, must name the tenant and modality (or be absent)");
        }
        Long treeVersion = f.optionalLong("tree_version", 1);
        JsonFields window = f.requiredObject("window");
        long start = window.requiredLong("start", 0);
        long end = window.requiredLong("end", 0);
        if (end < start) {
            throw invalid("field 'window.end' is " + end + ", before 'window.start' " + start);
        }
        long createdAt = f.requiredLong("created_at", 0);
        ModelRef model = RefsJson.model(f);
        Double noiseShare = f.optionalFiniteDouble("noise_share", 0, 1);
        Double churn = f.optionalFiniteDouble("churn", 0, 1);
        ArrayNode array = f.requiredArray("nodes");
        List<TopicTreeRecord.Node> nodes = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            nodes.add(node(f.element("nodes", array, i)));
        }
        String problem = TreeCheck.problem(nodes);
        if (problem != null) {
            throw invalid("field 'nodes': " + problem);
        }
        List<TopicTreeRecord.Change> changes = changes(f, f.optionalArray("changes"));
        return new TopicTreeRecord(treeId, start, end, createdAt, model, nodes, key,
                treeVersion == null ? 0 : treeVersion, noiseShare, churn, changes);
    }

    private static TopicTreeRecord.Node node(JsonFields n) throws RecordRejectedException {
        int id = n.requiredInt("id", 0);
        int parent = n.requiredInt("parent", -1);
        double lambda = n.requiredFiniteDouble("lambda", 0);
        int size = n.requiredInt("size", 1);
        double stability = n.requiredFiniteDouble("stability", 0);
        Boolean selected = n.optionalBoolean("selected");
        String label = n.optionalString("label");
        List<String> exemplars = n.stringList("exemplars", n.requiredArray("exemplars"));
        List<String> texts = n.stringList("exemplar_texts", n.optionalArray("exemplar_texts"));
        if (!texts.isEmpty() && texts.size() != exemplars.size()) {
            throw invalid("field '" + n.path("exemplar_texts") + "' has " + texts.size() + " entries but '"
                    + n.path("exemplars") + "' has " + exemplars.size() + ": one text per exemplar, in order");
        }
        return new TopicTreeRecord.Node(id, parent, lambda, size, stability, label, exemplars, selected, texts);
    }

    private static List<TopicTreeRecord.Change> changes(JsonFields f, ArrayNode array)
            throws RecordRejectedException {
        if (array == null) {
            return List.of();
        }
        List<TopicTreeRecord.Change> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonFields c = f.element("changes", array, i);
            String kind = c.requiredString("kind");
            if (!TopicTreeRecord.Change.knownKind(kind)) {
                throw invalid("field '" + c.path("kind") + "' is '" + kind
                        + "', must be 'born', 'split', 'merged' or 'died'");
            }
            int topic = c.requiredInt("topic", 0);
            List<Integer> from = c.intList("from", c.requiredArray("from"), 0);
            out.add(new TopicTreeRecord.Change(kind, topic, from));
        }
        return out;
    }

    private static RecordRejectedException invalid(String message) {
        return new RecordRejectedException(ErrorKind.INVALID_FIELD, message);
    }
}
