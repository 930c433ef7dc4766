package io.inflow.jobs;

import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.decode.DecodeImageFunction;
import io.inflow.operators.decode.DecodeTextFunction;
import io.inflow.operators.embed.ImageEmbedOperatorFactory;
import io.inflow.operators.embed.VitCompute;
import io.inflow.operators.image.AsyncImageDecodeFunction;
import io.inflow.operators.image.DecodedImageEvent;
import io.inflow.operators.image.RouteRejectedImages;
import io.inflow.jobs.config.ImageSettings;
import io.inflow.connectors.kafka.InflowKafka;
import io.inflow.schemas.RawRecord;
import io.inflow.jobs.config.CheckpointPolicy;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.operators.embed.TextEmbedOperatorFactory;
import io.inflow.operators.tokenize.AsyncTokenizeFunction;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.operators.output.OutputEncoder;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.SourcedImage;
import io.inflow.schemas.SourcedText;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The Inflow pipeline, two branches into shared sinks:
 * <ul>
 *   <li>text: Kafka {@code events.text} -> decode + validate -> tokenize (async) -> Arrow micro-batches by token
 *       length -> encoder (compute thread) -> {@code enriched};</li>
 *   <li>image ({@code inflow.image.enabled}, default on): Kafka {@code events.image} -> decode + validate the
 *       envelope -> decode the pixels (async; bombs, corrupt, truncated, unsupported and unreadable images are
 *       dead-lettered) -> Arrow micro-batches of decoded images -> preprocessing + ViT on the backend (compute
 *       thread) -> {@code enriched} with the embedding and the top class scores.</li>
 * </ul>
 * Every rejected record of either branch goes to {@code dlq} with its original bytes and the reason. With
 * {@code inflow.topics.enabled}, each branch's embeddings are clustered per tenant into a topic tree: every event
 * leaves with its topic, and every rebuild is published on {@code topics} ({@link TopicBranch}). With
 * {@code inflow.retrieval.enabled}, the corpus topic is embedded into a sharded index and every text event leaves
 * with its nearest documents ({@link RetrievalBranch}); with images on too, image documents of the corpus go to a
 * second index (the ViT's vectors) and every image event leaves with its nearest image documents.
 *
 * <pre>{@code
 * StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
 * InflowPipeline.build(env, config);
 * env.execute(InflowPipelineJob.JOB_NAME);
 * }</pre>
 */
public final class InflowPipeline {

    /** Stable operator uids: keep them when changing the topology so savepoints stay restorable. */
    public static final String UID_SOURCE = "source-events-text";
    public static final String UID_DECODE = "decode-text";
    public static final String UID_TOKENIZE = "tokenize-text";
    public static final String UID_EMBED = "embed-text";
    public static final String UID_IMAGE_SOURCE = "source-events-image";
    public static final String UID_IMAGE_DECODE = "decode-image";
    public static final String UID_IMAGE_PIXELS = "decode-image-pixels";
    public static final String UID_IMAGE_ROUTE = "route-rejected-images";
    public static final String UID_IMAGE_EMBED = "embed-image";
    /** A text that is not tokenized within this time fails the task: the tokenizer is stuck, not slow. */
    static final Duration TOKENIZE_TIMEOUT = Duration.ofSeconds(60);
    /** An image that is not decoded within this time fails the task (the limits bound one decode to well below). */
    static final Duration IMAGE_DECODE_TIMEOUT = Duration.ofSeconds(120);
    public static final String UID_CORPUS_SOURCE = "source-corpus";
    public static final String UID_CORPUS_DECODE = "decode-corpus";
    public static final String UID_CORPUS_SPLIT = "split-corpus";
    public static final String UID_CORPUS_TOKENIZE = "tokenize-corpus";
    public static final String UID_CORPUS_EMBED = "embed-corpus";
    public static final String UID_RETRIEVE = "retrieve";
    public static final String UID_MERGE = "merge-neighbours";
    public static final String UID_RETRIEVAL_OUTPUT = "encode-neighbours";
    public static final String UID_CORPUS_IMAGE_PIXELS = "decode-corpus-image-pixels";
    public static final String UID_CORPUS_IMAGE_ROUTE = "route-rejected-corpus-images";
    public static final String UID_CORPUS_IMAGE_EMBED = "embed-corpus-image";
    public static final String UID_IMAGE_RETRIEVE = "retrieve-image";
    public static final String UID_IMAGE_MERGE = "merge-image-neighbours";
    public static final String UID_IMAGE_RETRIEVAL_OUTPUT = "encode-image-neighbours";
    public static final String UID_TOPICS = "topic-tree-text";
    public static final String UID_TOPIC_OUTPUT = "encode-topics-text";
    public static final String UID_TOPIC_TREES = "encode-topic-trees-text";
    public static final String UID_SINK_TOPICS = "sink-topics-text";
    public static final String UID_IMAGE_TOPICS = "topic-tree-image";
    public static final String UID_IMAGE_TOPIC_OUTPUT = "encode-topics-image";
    public static final String UID_IMAGE_TOPIC_TREES = "encode-topic-trees-image";
    public static final String UID_SINK_IMAGE_TOPICS = "sink-topics-image";
    public static final String UID_SINK_ENRICHED = "sink-enriched";
    public static final String UID_SINK_DLQ = "sink-dlq";

    private InflowPipeline() {
    }

    /**
     * The corpus source's consumer group: the text group with {@code -corpus} appended. Its committed offsets reach
     * the end of the corpus topic once a checkpoint completed after the last document, i.e. once the index applied
     * every document (the demo waits for that before producing events).
     */
    public static String corpusGroupId(PipelineSettings s) {
        return s.kafka().textGroupId() + "-corpus";
    }

    /** Texts being tokenized at once per subtask: enough to fill a few batches ahead of compute. */
    static int tokenizeCapacity(PipelineSettings s) {
        return Math.max(64, 4 * s.batching().maxRecords());
    }

    /** Builds the pipeline from the configuration (validated first). */
    public static PipelineSettings build(StreamExecutionEnvironment env, ReadableConfig config) {
        return build(env, config, UnaryOperator.identity());
    }

    /**
     * Builds the pipeline with {@code tap} applied to the decoded text stream before batching (tests use it to
     * inject a failure; users could add a filter).
     */
    public static PipelineSettings build(StreamExecutionEnvironment env, ReadableConfig config,
            UnaryOperator<DataStream<SourcedText>> tap) {
        return build(env, config, tap, UnaryOperator.identity());
    }

    /**
     * Builds the pipeline with {@code tap} applied to the decoded text stream and {@code textCompute} wrapped around
     * the text compute (fault tests wrap it to inject a failing row; a user could add instrumentation).
     */
    public static PipelineSettings build(StreamExecutionEnvironment env, ReadableConfig config,
            UnaryOperator<DataStream<SourcedText>> tap, UnaryOperator<TextBatchCompute> textCompute) {
        PipelineSettings s = PipelineSettings.from(config);
        CheckpointPolicy.apply(env, config, s.kafka());

        String textTopic = s.kafka().topics().text();
        DataStream<RawRecord> raw = env
                .fromSource(InflowKafka.rawSource(s.kafka(), textTopic, s.kafka().textGroupId()), WatermarkStrategy.noWatermarks(),
                        "kafka: " + textTopic)
                .uid(UID_SOURCE);
        SingleOutputStreamOperator<SourcedText> decoded = raw
                .process(new DecodeTextFunction(s.limits()), TypeInformation.of(SourcedText.class))
                .name("decode + validate").uid(UID_DECODE);
        DataStream<DeadLetterRecord> deadLetters = decoded.getSideOutput(DeadLetters.TAG);

        DataStream<TokenizedText> tokenized = AsyncDataStream.orderedWait(tap.apply(decoded),
                        new AsyncTokenizeFunction(s.model(), s.maxTokens(), s.tokenizerThreads()),
                        TOKENIZE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS, tokenizeCapacity(s))
                .returns(TypeInformation.of(TokenizedText.class))
                .name("tokenize").uid(UID_TOKENIZE);
        TextBatchCompute compute = textCompute.apply(s.compute());
        OutputEncoder encoder = new OutputEncoder(s.kafka().sinkLimits().maxRequestBytes());
        DataStream<EncodedRecord> enriched;
        ImageInput images = s.imagesEnabled() ? imageInput(env, s) : null;
        if (images != null) {
            deadLetters = deadLetters.union(images.deadLetters());
        }
        if (s.retrievalEnabled()) {
            Branch retrieval = RetrievalBranch.build(env, s, tokenized, compute, encoder,
                    images == null ? null : images.images());
            enriched = retrieval.enriched();
            deadLetters = deadLetters.union(retrieval.deadLetters());
        } else if (s.topicsEnabled()) {
            Branch topics = TopicBranch.text(s, tokenized, compute, encoder);
            enriched = topics.enriched();
            deadLetters = deadLetters.union(topics.deadLetters());
        } else {
            SingleOutputStreamOperator<EncodedRecord> textEnriched = tokenized
                    .transform("batch + compute", TypeInformation.of(EncodedRecord.class),
                            new TextEmbedOperatorFactory(s.batching(), compute, s.encoding(), encoder))
                    .uid(UID_EMBED);
            enriched = textEnriched;
            deadLetters = deadLetters.union(textEnriched.getSideOutput(DeadLetters.TAG));
        }

        if (images != null && !s.retrievalEnabled()) {
            Branch image = s.topicsEnabled() ? TopicBranch.image(s, images.images(), encoder)
                    : imageBranch(s, images.images(), encoder);
            enriched = enriched.union(image.enriched());
            deadLetters = deadLetters.union(image.deadLetters());
        }

        enriched.sinkTo(InflowKafka.enrichedSink(s.kafka()))
                .name("kafka: " + s.kafka().topics().enriched()).uid(UID_SINK_ENRICHED);
        deadLetters.sinkTo(InflowKafka.deadLetterSink(s.kafka()))
                .name("kafka: " + s.kafka().topics().deadLetter()).uid(UID_SINK_DLQ);
        return s;
    }

    /** What a branch feeds into the shared sinks. */
    record Branch(DataStream<EncodedRecord> enriched, DataStream<DeadLetterRecord> deadLetters) {
    }

    /** The decoded image events (pixels decoded, rejected ones routed to the dead letters) and those dead letters. */
    record ImageInput(DataStream<DecodedImageEvent> images, DataStream<DeadLetterRecord> deadLetters) {
    }

    /** The image branch up to the decoded pixels; its dead letters come from envelope and from pixel decoding. */
    private static ImageInput imageInput(StreamExecutionEnvironment env, PipelineSettings s) {
        ImageSettings img = s.images();
        String topic = s.kafka().topics().image();
        SingleOutputStreamOperator<SourcedImage> envelopes = env
                .fromSource(InflowKafka.rawSource(s.kafka(), topic, s.kafka().imageGroupId()), WatermarkStrategy.noWatermarks(),
                        "kafka: " + topic)
                .uid(UID_IMAGE_SOURCE)
                .process(new DecodeImageFunction(s.limits()), TypeInformation.of(SourcedImage.class))
                .name("decode + validate image").uid(UID_IMAGE_DECODE);
        SingleOutputStreamOperator<DecodedImageEvent> pixels = AsyncDataStream.orderedWait(envelopes,
                        new AsyncImageDecodeFunction(img.decode(), img.decoderThreads()),
                        IMAGE_DECODE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS, img.decodeCapacity())
                .returns(TypeInformation.of(DecodedImageEvent.class))
                .name("decode pixels").uid(UID_IMAGE_PIXELS);
        SingleOutputStreamOperator<DecodedImageEvent> images = pixels
                .process(new RouteRejectedImages(), TypeInformation.of(DecodedImageEvent.class))
                .name("route rejected images").uid(UID_IMAGE_ROUTE);
        return new ImageInput(images, envelopes.getSideOutput(DeadLetters.TAG)
                .union(images.getSideOutput(DeadLetters.TAG)));
    }

    /** The image branch without retrieval: decoded images embedded and classified straight to the sink. */
    private static Branch imageBranch(PipelineSettings s, DataStream<DecodedImageEvent> images,
            OutputEncoder encoder) {
        ImageSettings img = s.images();
        SingleOutputStreamOperator<EncodedRecord> enriched = images
                .transform("batch + vit", TypeInformation.of(EncodedRecord.class),
                        new ImageEmbedOperatorFactory(img.batching(), new VitCompute(img.encoder()), s.encoding(),
                                img.topK(), encoder))
                .uid(UID_IMAGE_EMBED);
        return new Branch(enriched, enriched.getSideOutput(DeadLetters.TAG));
    }
}
