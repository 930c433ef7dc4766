package io.inflow.jobs;

import io.inflow.connectors.kafka.InflowKafka;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.jobs.config.TopicJobSettings;
import io.inflow.operators.batch.BatchOperatorFactory;
import io.inflow.operators.batch.BatchSettings;
import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.embed.ImageEmbedCompute;
import io.inflow.operators.embed.ImageEmbedOperatorFactory;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.operators.embed.TextEmbedCompute;
import io.inflow.operators.embed.TextEmbedOperatorFactory;
import io.inflow.operators.embed.VitCompute;
import io.inflow.operators.image.DecodedImageEvent;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.operators.topics.TopicAssignment;
import io.inflow.operators.topics.TopicEvent;
import io.inflow.operators.topics.TopicOutput;
import io.inflow.operators.topics.TopicRowOutput;
import io.inflow.operators.topics.TopicSettings;
import io.inflow.operators.topics.TopicTreeCompute;
import io.inflow.operators.topics.TopicTreeOutput;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The embedding branches with the topic tree ({@code inflow.topics.enabled}):
 * <pre>
 * tokenized text events -> embed -> TopicEvent --keyBy(tenant|text)--> topic tree -> enriched (with its topic)
 * decoded image events  -> embed (ViT) -> TopicEvent --keyBy(tenant|image)--> topic tree (image) -> enriched
 *                                           each rebuild: tree snapshot -> topics
 * </pre>
 * With retrieval on, the tree sits after the neighbours' merge instead ({@link RetrievalBranch}): the enriched event
 * carries its neighbours and its topic.
 * The embedding operators keep their uids (a savepoint of a job without topics restores into one with them).
 *
 * <p>{@code InflowPipeline.Branch b = TopicBranch.text(settings, tokenized, compute, encoder);}
 */
final class TopicBranch {

    private TopicBranch() {
    }

    static InflowPipeline.Branch text(PipelineSettings s, DataStream<TokenizedText> tokenized,
            TextBatchCompute compute, OutputEncoder encoder) {
        TopicJobSettings t = s.topics();
        SingleOutputStreamOperator<TopicEvent> embedded = tokenized
                .transform("batch + compute", TypeInformation.of(TopicEvent.class), new BatchOperatorFactory<>(
                        new TextEmbedCompute<>(s.batching(), compute, s.encoding(),
                                TopicRowOutput.of(t.tenantAttribute(), s.limits())),
                        new BatchSettings(s.batching().maxWait(), s.batching().maxInFlight(),
                                TextEmbedOperatorFactory.METRICS_OPERATOR, TextEmbedOperatorFactory.MODALITY)))
                .uid(InflowPipeline.UID_EMBED);
        InflowPipeline.Branch b = tree(s, embedded, t.tree(), "text", encoder);
        return new InflowPipeline.Branch(b.enriched(), b.deadLetters().union(embedded.getSideOutput(DeadLetters.TAG)));
    }

    static InflowPipeline.Branch image(PipelineSettings s, DataStream<DecodedImageEvent> images,
            OutputEncoder encoder) {
        TopicJobSettings t = s.topics();
        var img = s.images();
        int dim;
        try {
            dim = img.encoder().dimension();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read the image model's width for the topic tree: "
                    + e.getMessage(), e);
        }
        SingleOutputStreamOperator<TopicEvent> embedded = images
                .transform("batch + vit", TypeInformation.of(TopicEvent.class), new BatchOperatorFactory<>(
                        new ImageEmbedCompute<>(img.batching(), new VitCompute(img.encoder()), s.encoding(),
                                img.topK(), TopicRowOutput.of(t.tenantAttribute(), s.limits())),
                        new BatchSettings(img.batching().maxWait(), img.batching().maxInFlight(),
                                ImageEmbedOperatorFactory.METRICS_OPERATOR, ImageEmbedOperatorFactory.MODALITY)))
                .uid(InflowPipeline.UID_IMAGE_EMBED);
        InflowPipeline.Branch b = tree(s, embedded, t.forDim(dim), "image", encoder);
        return new InflowPipeline.Branch(b.enriched(), b.deadLetters().union(embedded.getSideOutput(DeadLetters.TAG)));
    }

    /**
     * The topic tree of one modality over embedded events (from the embedding operator, or from the retrieval merge
     * with their neighbours): keyed by tenant and modality, assigned, encoded; snapshots to {@code topics}. The
     * branch's dead letters are those of the tree and the encoding (the caller adds its embedding's).
     */
    static InflowPipeline.Branch tree(PipelineSettings s, DataStream<TopicEvent> embedded, TopicSettings settings,
            String modality, OutputEncoder encoder) {
        String uidTree = "image".equals(modality) ? InflowPipeline.UID_IMAGE_TOPICS : InflowPipeline.UID_TOPICS;
        String uidOutput = "image".equals(modality) ? InflowPipeline.UID_IMAGE_TOPIC_OUTPUT
                : InflowPipeline.UID_TOPIC_OUTPUT;
        String uidTrees = "image".equals(modality) ? InflowPipeline.UID_IMAGE_TOPIC_TREES
                : InflowPipeline.UID_TOPIC_TREES;
        String uidSink = "image".equals(modality) ? InflowPipeline.UID_SINK_IMAGE_TOPICS
                : InflowPipeline.UID_SINK_TOPICS;
        TopicTreeCompute compute = new TopicTreeCompute(settings, s.batching().maxRecords(), s.topics().threads());
        SingleOutputStreamOperator<TopicAssignment> assigned = embedded
                .keyBy(TopicEvent::key)
                .transform("topic tree " + modality, TypeInformation.of(TopicAssignment.class),
                        new BatchOperatorFactory<>(compute, new BatchSettings(s.batching().maxWait(),
                                s.batching().maxInFlight(), "topics", modality)))
                .uid(uidTree);
        SingleOutputStreamOperator<EncodedRecord> enriched = assigned
                .process(new TopicOutput(encoder), TypeInformation.of(EncodedRecord.class))
                .name("encode topics " + modality).uid(uidOutput);
        assigned.getSideOutput(TopicTreeCompute.SNAPSHOTS)
                .map(new TopicTreeOutput(compute.model())).returns(EncodedRecord.class)
                .name("encode topic trees " + modality).uid(uidTrees)
                .sinkTo(InflowKafka.topicTreeSink(s.kafka(), modality))
                .name("kafka: " + s.kafka().topics().topicTrees() + " (" + modality + ")").uid(uidSink);
        DataStream<DeadLetterRecord> deadLetters = assigned.getSideOutput(DeadLetters.TAG)
                .union(enriched.getSideOutput(DeadLetters.TAG));
        return new InflowPipeline.Branch(enriched, deadLetters);
    }
}
