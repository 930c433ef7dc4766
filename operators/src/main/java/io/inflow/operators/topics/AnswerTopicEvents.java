package io.inflow.operators.topics;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.operators.retrieval.RetrievalAnswer;
import io.inflow.operators.retrieval.RetrievalOutput;
import io.inflow.schemas.Limits;

import org.apache.flink.api.common.functions.MapFunction;

/**
 * A merged retrieval answer as a {@link TopicEvent}: the enriched event with its neighbours, the query's vector,
 * keyed by tenant and modality as {@link TopicRowOutput} keys embedding rows. With retrieval and topic trees both on,
 * the tree comes after the merge, so the event leaves with both.
 *
 * <p>{@code answers.map(new AnswerTopicEvents(Metric.COSINE, "tenant", limits))}
 */
public final class AnswerTopicEvents implements MapFunction<RetrievalAnswer, TopicEvent> {

    private static final long serialVersionUID = 1L;

    private final Metric metric;
    private final TopicRowOutput rows;

    public AnswerTopicEvents(Metric metric, String tenantAttribute, Limits limits) {
        this.metric = metric;
        this.rows = TopicRowOutput.of(tenantAttribute, limits);
    }

    @Override
    public TopicEvent map(RetrievalAnswer a) {
        return (TopicEvent) rows.output(RetrievalOutput.event(a, metric), a.query().vector(), a.query().raw(),
                System.currentTimeMillis());
    }
}
