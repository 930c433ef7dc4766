package io.inflow.connectors.kafka;

import org.apache.flink.connector.base.DeliveryGuarantee;

import java.io.Serializable;
import java.time.Duration;
import java.util.Properties;

/**
 * Validated Kafka settings of a job (see {@link KafkaOptions} for the keys and their meaning).
 *
 * <p>{@code KafkaSettings s = KafkaOptions.settings(config);
 * KafkaSource<RawRecord> src = InflowKafka.rawSource(s, s.topics().text(), s.textGroupId());}
 *
 * @param textGroupId consumer group of the text source ({@code inflow.kafka.group-id})
 * @param imageGroupId consumer group of the image source ({@code inflow.kafka.image-group-id}), never the text one
 */
public record KafkaSettings(String bootstrapServers, String textGroupId, String imageGroupId,
        KafkaOptions.StartingOffsets startingOffsets,
        DeliveryGuarantee deliveryGuarantee, String transactionalIdPrefix, Duration transactionTimeout,
        Properties extraProperties, Topics topics, SinkLimits sinkLimits) implements Serializable {

    /** Topic names. */
    public record Topics(String text, String image, String corpus, String enriched, String deadLetter,
            String topicTrees) implements Serializable {
    }

    /** Client properties: the pass-through ones plus the bootstrap servers. */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.putAll(extraProperties);
        p.setProperty("bootstrap.servers", bootstrapServers);
        return p;
    }
}
