package io.inflow.operators.topics;

import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;

import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.List;

/**
 * The enriched event of a {@link TopicAssignment}: its topic (flat topic id, or none for noise), its path up to the
 * root and the tree version, then encoded for the {@code enriched} topic (too large or unencodable: a dead letter).
 *
 * <p>{@code assigned.process(new TopicOutput(encoder), TypeInformation.of(EncodedRecord.class))}
 */
public final class TopicOutput extends ProcessFunction<TopicAssignment, EncodedRecord> {

    private static final long serialVersionUID = 1L;

    private final OutputEncoder encoder;

    public TopicOutput(OutputEncoder encoder) {
        this.encoder = encoder;
    }

    /** The assignment's enriched event with its topic. */
    public static EnrichedEvent event(TopicAssignment a) {
        List<Integer> path = new ArrayList<>(a.path().size());
        for (long t : a.path()) {
            path.add(Math.toIntExact(t));
        }
        return a.event().withTopic(new EnrichedEvent.TopicRef(a.topic() < 0 ? null : Math.toIntExact(a.topic()),
                path, a.treeVersion()));
    }

    @Override
    public void processElement(TopicAssignment a, Context ctx, Collector<EncodedRecord> out) {
        OutputEncoder.Result r = encoder.encode(event(a), a.raw(), System.currentTimeMillis());
        if (r.deadLetter() != null) {
            ctx.output(DeadLetters.TAG, r.deadLetter());
        } else {
            out.collect(r.record());
        }
    }
}
