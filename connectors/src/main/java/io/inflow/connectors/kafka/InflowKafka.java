package io.inflow.connectors.kafka;

import io.inflow.schemas.RawRecord;
import io.inflow.schemas.DeadLetterRecord;
import io.inflow.schemas.EncodedRecord;
import io.inflow.schemas.RecordCodec;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.util.Properties;

/**
 * Builds Inflow's Kafka sources and sinks from {@link KafkaSettings}.
 *
 * <pre>{@code
 * KafkaSettings s = KafkaOptions.settings(config);
 * DataStream<RawRecord> raw = env.fromSource(InflowKafka.rawSource(s, s.topics().text(), s.textGroupId()),
 *         WatermarkStrategy.noWatermarks(), "events.text");
 * enriched.sinkTo(InflowKafka.enrichedSink(s));
 * deadLetters.sinkTo(InflowKafka.deadLetterSink(s));
 * }</pre>
 */
public final class InflowKafka {

    private InflowKafka() {
    }

    /**
     * A source that reads {@code topic} as {@link RawRecord}s, committed transactions only, offsets committed to
     * {@code groupId} on checkpoints. Each source of a job has its own group ({@link KafkaSettings#textGroupId()},
     * {@link KafkaSettings#imageGroupId()}), so a group's lag is one source's lag.
     */
    public static KafkaSource<RawRecord> rawSource(KafkaSettings s, String topic, String groupId) {
        OffsetsInitializer start = switch (s.startingOffsets()) {
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
            case COMMITTED_OR_EARLIEST -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        };
        Properties props = s.clientProperties();
        props.setProperty("isolation.level", "read_committed");
        return KafkaSource.<RawRecord>builder()
                .setBootstrapServers(s.bootstrapServers())
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(start)
                .setProperties(props)
                .setDeserializer(new RawRecordDeserializer())
                .build();
    }

    /**
     * The corpus source: like {@link #rawSource}, but a job that starts without a checkpoint always reads the corpus
     * topic from its beginning, whatever {@code inflow.kafka.starting-offsets} says for the event topics: the index
     * is the whole compacted topic, not what arrives from now on.
     */
    public static KafkaSource<RawRecord> corpusSource(KafkaSettings s, String groupId) {
        Properties props = s.clientProperties();
        props.setProperty("isolation.level", "read_committed");
        return KafkaSource.<RawRecord>builder()
                .setBootstrapServers(s.bootstrapServers())
                .setTopics(s.topics().corpus())
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setProperties(props)
                .setDeserializer(new RawRecordDeserializer())
                .build();
    }

    /**
     * The sink of enriched events, already encoded by the operator that made them (key = the input's Kafka key,
     * value = the enriched JSON; the operator checked the size against {@link SinkLimits#maxRequestBytes()}).
     */
    public static KafkaSink<EncodedRecord> enrichedSink(KafkaSettings s) {
        String topic = s.topics().enriched();
        KafkaRecordSerializationSchema<EncodedRecord> serializer = (record, context, timestamp) ->
                new ProducerRecord<>(topic, null, timestamp, record.key(), record.value());
        return sink(s, serializer, "enriched");
    }

    /**
     * A sink of topic-tree snapshots, already encoded (key = tenant and modality, value = the topic-tree JSON) to the
     * {@code topics} topic; one per modality ({@code name} keeps their transactional ids apart).
     */
    public static KafkaSink<EncodedRecord> topicTreeSink(KafkaSettings s, String name) {
        String topic = s.topics().topicTrees();
        KafkaRecordSerializationSchema<EncodedRecord> serializer = (record, context, timestamp) ->
                new ProducerRecord<>(topic, null, timestamp, record.key(), record.value());
        return sink(s, serializer, "topics-" + name);
    }

    /**
     * The dead-letter sink: key = the original key, value = the dead-letter JSON (which holds the original value).
     * Originals over {@link SinkLimits#deadLetterMaxOriginalBytes()} are cut first, so every dead letter fits one
     * producer request.
     */
    public static KafkaSink<DeadLetterRecord> deadLetterSink(KafkaSettings s) {
        String topic = s.topics().deadLetter();
        int keep = s.sinkLimits().deadLetterMaxOriginalBytes();
        KafkaRecordSerializationSchema<DeadLetterRecord> serializer = (record, context, timestamp) -> {
            DeadLetterRecord fit = record.fitTo(keep);
            return new ProducerRecord<>(topic, null, timestamp, fit.key(), RecordCodec.encode(fit));
        };
        return sink(s, serializer, "dlq");
    }

    private static <T> KafkaSink<T> sink(KafkaSettings s, KafkaRecordSerializationSchema<T> serializer,
            String name) {
        Properties props = s.clientProperties();
        props.setProperty("max.request.size", Integer.toString(s.sinkLimits().maxRequestBytes()));
        props.setProperty("transaction.timeout.ms", Long.toString(s.transactionTimeout().toMillis()));
        props.putIfAbsent("linger.ms", "5");
        props.putIfAbsent("compression.type", "lz4");
        var builder = KafkaSink.<T>builder()
                .setBootstrapServers(s.bootstrapServers())
                .setRecordSerializer(serializer)
                .setKafkaProducerConfig(props)
                .setDeliveryGuarantee(s.deliveryGuarantee());
        if (s.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE) {
            builder.setTransactionalIdPrefix(s.transactionalIdPrefix() + "-" + name);
        }
        return builder.build();
    }
}
