package io.inflow.jobs;

import io.inflow.operators.decode.DeadLetters;
import io.inflow.operators.decode.DecodeTextFunction;
import io.inflow.connectors.kafka.InflowKafka;
import io.inflow.schemas.RawRecord;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.operators.embed.TextBatchCompute;
import io.inflow.operators.embed.TextEmbedOperatorFactory;
import io.inflow.operators.tokenize.AsyncTokenizeFunction;
import io.inflow.operators.tokenize.TokenizedText;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.SourcedText;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The text pipeline: Kafka {@code events.text} -> decode + validate (bad records to {@code dlq}) -> tokenize (async)
 * -> Arrow micro-batches by token length -> compute (encoder, async) -> Kafka {@code enriched}.
 *
 * <pre>{@code
 * StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
 * TextPipeline.build(env, config);
 * env.execute("inflow-text");
 * }</pre>
 */
public final class TextPipeline {

    /** Stable operator uids: keep them when changing the topology so savepoints stay restorable. */
    public static final String UID_SOURCE = "source-events-text";
    public static final String UID_DECODE = "decode-text";
    public static final String UID_TOKENIZE = "tokenize-text";
    public static final String UID_EMBED = "embed-text";
    /** A text that is not tokenized within this time fails the task: the tokenizer is stuck, not slow. */
    static final Duration TOKENIZE_TIMEOUT = Duration.ofSeconds(60);
    public static final String UID_SINK_ENRICHED = "sink-enriched";
    public static final String UID_SINK_DLQ = "sink-dlq";

    private TextPipeline() {
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
     * Builds the pipeline with {@code tap} applied to the decoded stream before batching (tests use it to inject a
     * failure; users could add a filter).
     */
    public static PipelineSettings build(StreamExecutionEnvironment env, ReadableConfig config,
            UnaryOperator<DataStream<SourcedText>> tap) {
        PipelineSettings s = PipelineSettings.from(config);
        if (!env.getCheckpointConfig().isCheckpointingEnabled()) {
            env.enableCheckpointing(PipelineSettings.defaultCheckpointInterval(config).toMillis());
        }
        long interval = env.getCheckpointConfig().getCheckpointInterval();
        if (s.kafka().deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE
                && interval >= s.kafka().transactionTimeout().toMillis()) {
            throw new IllegalArgumentException("the checkpoint interval (" + interval + " ms) must be shorter than"
                    + " inflow.kafka.transaction-timeout (" + s.kafka().transactionTimeout().toMillis()
                    + " ms): transactions stay open from one checkpoint to the next");
        }

        String textTopic = s.kafka().topics().text();
        DataStream<RawRecord> raw = env
                .fromSource(InflowKafka.rawSource(s.kafka(), textTopic), WatermarkStrategy.noWatermarks(),
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
        TextBatchCompute compute = s.compute();
        DataStream<EnrichedEvent> enriched = tokenized
                .transform("batch + compute", TypeInformation.of(EnrichedEvent.class),
                        new TextEmbedOperatorFactory(s.batching(), compute, s.encoding()))
                .uid(UID_EMBED);

        enriched.sinkTo(InflowKafka.enrichedSink(s.kafka()))
                .name("kafka: " + s.kafka().topics().enriched()).uid(UID_SINK_ENRICHED);
        deadLetters.sinkTo(InflowKafka.deadLetterSink(s.kafka()))
                .name("kafka: " + s.kafka().topics().deadLetter()).uid(UID_SINK_DLQ);
        return s;
    }
}
