package io.inflow.operators.retrieval;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.EnrichedEvent;

import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The last step of retrieval: a merged answer becomes the query's enriched event with its neighbours (id, score,
 * rank) and the index state they were computed against (metric, documents, per shard its documents and last applied
 * corpus offset per partition), encoded for the sink; an event the sink cannot take becomes a dead letter.
 *
 * <pre>{@code
 * SingleOutputStreamOperator<EncodedRecord> out = answers.process(new RetrievalOutput(Metric.COSINE, encoder));
 * out.getSideOutput(DeadLetters.TAG);
 * }</pre>
 */
public final class RetrievalOutput extends ProcessFunction<RetrievalAnswer, EncodedRecord> {

    private static final long serialVersionUID = 1L;

    private final Metric metric;
    private final OutputEncoder encoder;

    public RetrievalOutput(Metric metric, OutputEncoder encoder) {
        this.metric = metric;
        this.encoder = encoder;
    }

    /** The enriched event of an answer (neighbours ranked from 1, the index state). */
    public static EnrichedEvent event(RetrievalAnswer a, Metric metric) {
        List<EnrichedEvent.Neighbour> neighbours = new ArrayList<>(a.docIds().length);
        for (int i = 0; i < a.docIds().length; i++) {
            neighbours.add(new EnrichedEvent.Neighbour(a.docIds()[i], a.scores()[i], i + 1));
        }
        List<EnrichedEvent.ShardState> shards = new ArrayList<>(a.shards().size());
        for (RetrievalAnswer.Shard s : a.shards()) {
            shards.add(new EnrichedEvent.ShardState(s.shard(), s.documents(), s.lastOffsets()));
        }
        return a.query().event().withRetrieval(neighbours,
                new EnrichedEvent.IndexState(metric.name().toLowerCase(Locale.ROOT), a.documents(), shards));
    }

    @Override
    public void processElement(RetrievalAnswer a, Context ctx, Collector<EncodedRecord> out) {
        long now = System.currentTimeMillis();
        OutputEncoder.Result r = encoder.encode(event(a, metric), a.query().raw(), now);
        if (r.deadLetter() != null) {
            ctx.output(DeadLetters.TAG, r.deadLetter());
        } else {
            out.collect(r.record());
        }
    }
}
