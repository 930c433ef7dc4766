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
        g.writeObjectFieldStart("window");
        g.writeNumberField("start", r.windowStart());
        g.writeNumberField("end", r.windowEnd());
        g.writeEndObject();
        g.writeNumberField("created_at", r.createdAt());
        Json.writeModel(g, r.model());
        g.writeArrayFieldStart("nodes");
        for (TopicTreeRecord.Node n : r.nodes()) {
            g.writeStartObject();
            g.writeNumberField("id", n.id());
            g.writeNumberField("parent", n.parent());
            g.writeNumberField("lambda", n.lambda());
            g.writeNumberField("size", n.size());
            g.writeNumberField("stability", n.stability());
            Json.writeOptional(g, "label", n.label());
            g.writeArrayFieldStart("exemplars");
            for (String id : n.exemplars()) {
                g.writeString(id);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    static TopicTreeRecord read(JsonFields f) throws RecordRejectedException {
        String treeId = f.requiredNonEmptyString("tree_id");
        JsonFields window = f.requiredObject("window");
        long start = window.requiredLong("start", 0);
        long end = window.requiredLong("end", 0);
        if (end < start) {
            throw invalid("field 'window.end' is " + end + ", before 'window.start' " + start);
        }
        long createdAt = f.requiredLong("created_at", 0);
        ModelRef model = RefsJson.model(f);
        ArrayNode array = f.requiredArray("nodes");
        List<TopicTreeRecord.Node> nodes = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonFields n = f.element("nodes", array, i);
            nodes.add(new TopicTreeRecord.Node(n.requiredInt("id", 0), n.requiredInt("parent", -1),
                    n.requiredFiniteDouble("lambda", 0), n.requiredInt("size", 1),
                    n.requiredFiniteDouble("stability", 0), n.optionalString("label"),
                    n.stringList("exemplars", n.requiredArray("exemplars"))));
        }
        String problem = TreeCheck.problem(nodes);
        if (problem != null) {
            throw invalid("field 'nodes': " + problem);
        }
        return new TopicTreeRecord(treeId, start, end, createdAt, model, nodes);
    }

    private static RecordRejectedException invalid(String message) {
        return new RecordRejectedException(ErrorKind.INVALID_FIELD, message);
    }
}
