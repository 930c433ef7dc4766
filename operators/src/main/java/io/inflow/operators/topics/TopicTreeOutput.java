package io.inflow.operators.topics;

import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RecordCodec;
import io.inflow.schemas.TopicTreeRecord;

import org.apache.flink.api.common.functions.MapFunction;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link TopicTreeSnapshot} in its wire form for the {@code topics} topic ({@link TopicTreeRecord}; Kafka key: the
 * tenant and modality, so one key's trees stay in order on one partition). The tree id is {@code key/v<version>};
 * the window is the snapshot's build time (the window holds the key's last events, not an event-time range); a node's
 * label is the text of its densest member.
 *
 * <p>{@code snapshots.map(new TopicTreeOutput(model)).returns(EncodedRecord.class)}
 */
public final class TopicTreeOutput implements MapFunction<TopicTreeSnapshot, EncodedRecord> {

    private static final long serialVersionUID = 1L;

    private final ModelRef model;

    public TopicTreeOutput(ModelRef model) {
        this.model = model;
    }

    /** The wire record of a snapshot. */
    public static TopicTreeRecord record(TopicTreeSnapshot s, ModelRef model) {
        List<TopicTreeRecord.Node> nodes = new ArrayList<>(s.nodes().size());
        for (TopicNode n : s.nodes()) {
            double lambda = n.radius() > 0 ? Math.min(1 / n.radius(), Double.MAX_VALUE) : 0;
            nodes.add(new TopicTreeRecord.Node(Math.toIntExact(n.topic()), Math.toIntExact(n.parent()), lambda,
                    Math.max(1, n.size()), Math.max(0, n.stability()),
                    n.representativeTexts().isEmpty() ? null : n.representativeTexts().get(0),
                    n.representativeIds(), n.selected(), n.representativeTexts()));
        }
        List<TopicTreeRecord.Change> changes = new ArrayList<>(s.changes().size());
        for (TopicChange c : s.changes()) {
            changes.add(new TopicTreeRecord.Change(c.kind(), Math.toIntExact(c.topic()),
                    c.from().stream().map(Math::toIntExact).toList()));
        }
        return new TopicTreeRecord(s.key() + "/v" + s.version(), s.builtAtMs(), s.builtAtMs(), s.builtAtMs(), model,
                nodes, s.key(), s.version(), s.noiseShare(), s.churn(), changes);
    }

    @Override
    public EncodedRecord map(TopicTreeSnapshot s) {
        return new EncodedRecord(s.key().getBytes(StandardCharsets.UTF_8), RecordCodec.encode(record(s, model)));
    }
}
