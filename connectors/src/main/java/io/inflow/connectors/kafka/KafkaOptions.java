package io.inflow.connectors.kafka;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;

/**
 * Flink configuration keys for Inflow's Kafka connections: where the brokers are, the topics, and the delivery
 * guarantee of the sinks. Extra client properties pass through with the prefix {@code inflow.kafka.properties.}
 * (e.g. {@code inflow.kafka.properties.security.protocol: SSL}).
 *
 * <p>{@code KafkaSettings s = KafkaOptions.settings(flinkConfig);}
 */
public final class KafkaOptions {

    /** Broker maximum for transactions (Kafka's transaction.max.timeout.ms default); a larger timeout is refused. */
    public static final Duration BROKER_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    public static final ConfigOption<String> BOOTSTRAP_SERVERS = ConfigOptions.key("inflow.kafka.bootstrap-servers")
            .stringType().noDefaultValue()
            .withDescription("Kafka bootstrap servers, host:port[,host:port]. Required.");

    public static final ConfigOption<String> GROUP_ID = ConfigOptions.key("inflow.kafka.group-id")
            .stringType().defaultValue("inflow-text")
            .withDescription("Consumer group of the text source (offsets are committed on checkpoints); also names"
                    + " the job's state directory. The image source has its own group, see "
                    + "inflow.kafka.image-group-id.");

    public static final ConfigOption<String> IMAGE_GROUP_ID = ConfigOptions.key("inflow.kafka.image-group-id")
            .stringType().noDefaultValue()
            .withDescription("Consumer group of the image source. Default: inflow.kafka.group-id with a trailing"
                    + " '-text' replaced by '-image' (inflow-text -> inflow-image), otherwise with '-image' appended"
                    + " (my-group -> my-group-image). Must differ from inflow.kafka.group-id.");

    public static final ConfigOption<StartingOffsets> STARTING_OFFSETS = ConfigOptions
            .key("inflow.kafka.starting-offsets").enumType(StartingOffsets.class)
            .defaultValue(StartingOffsets.COMMITTED_OR_EARLIEST)
            .withDescription("Where a job without a checkpoint starts reading.");

    public static final ConfigOption<String> DELIVERY_GUARANTEE = ConfigOptions
            .key("inflow.kafka.delivery-guarantee").stringType().defaultValue("exactly-once")
            .withDescription("exactly-once (transactional sinks, needs checkpointing; consumers read with"
                    + " isolation.level=read_committed) or at-least-once (lower latency, duplicates after a"
                    + " failure). EXACTLY_ONCE / AT_LEAST_ONCE are accepted too.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX = ConfigOptions
            .key("inflow.kafka.transactional-id-prefix").stringType().defaultValue("inflow")
            .withDescription("Prefix of the sinks' transactional ids; must be unique per job on a Kafka cluster.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT = ConfigOptions
            .key("inflow.kafka.transaction-timeout").durationType().defaultValue(Duration.ofMinutes(10))
            .withDescription("transaction.timeout.ms of the exactly-once sinks; at most the broker's"
                    + " transaction.max.timeout.ms (15 min by default) and longer than the checkpoint interval.");

    public static final ConfigOption<String> TOPIC_TEXT = topic("text-events", "events.text",
            "Input: text events.");
    public static final ConfigOption<String> TOPIC_IMAGE = topic("image-events", "events.image",
            "Input: image events.");
    public static final ConfigOption<String> TOPIC_CORPUS = topic("corpus", "corpus",
            "Input: corpus upserts/deletes by doc id (compacted).");
    public static final ConfigOption<String> TOPIC_ENRICHED = topic("enriched", "enriched",
            "Output: enriched events.");
    public static final ConfigOption<String> TOPIC_DLQ = topic("dead-letter", "dlq",
            "Output: dead-letter records (original bytes, source offset, reason).");
    public static final ConfigOption<String> TOPIC_TOPICS = topic("topic-trees", "topics",
            "Output: density-tree snapshots.");

    public static final ConfigOption<MemorySize> DEAD_LETTER_MAX_ORIGINAL_BYTES = ConfigOptions
            .key("inflow.dead-letter.max-original-bytes").memoryType()
            .defaultValue(new MemorySize(SinkLimits.DEFAULT_DEAD_LETTER_ORIGINAL_BYTES))
            .withDescription("Original key + value bytes a dead letter keeps; larger inputs are cut and the dead"
                    + " letter records their full sizes and SHA-256. Its largest dead letter (about 2.3 times this,"
                    + " plus 16 KiB) must fit the producers' max.request.size (checked at start).");

    /** Prefix for pass-through Kafka client properties. */
    public static final String PROPERTIES_PREFIX = "inflow.kafka.properties.";

    private KafkaOptions() {
    }

    private static ConfigOption<String> topic(String name, String defaultTopic, String description) {
        return ConfigOptions.key("inflow.topics." + name).stringType().defaultValue(defaultTopic)
                .withDescription(description);
    }

    /** Where a job without a checkpoint starts. */
    public enum StartingOffsets {
        /** The group's committed offsets; the earliest offset for partitions without one. */
        COMMITTED_OR_EARLIEST,
        EARLIEST,
        LATEST
    }

    /**
     * Reads and validates the Kafka keys; errors say which key to change.
     *
     * @throws IllegalArgumentException on a missing bootstrap server list, one none of whose hosts resolves, an
     *     out-of-range timeout, or client security settings no client could start with (see {@link KafkaSecurity})
     */
    public static KafkaSettings settings(ReadableConfig config) {
        String bootstrap = config.getOptional(BOOTSTRAP_SERVERS).orElseThrow(() -> new IllegalArgumentException(
                "'" + BOOTSTRAP_SERVERS.key() + "' is not set: give the Kafka bootstrap servers, e.g. -D"
                        + BOOTSTRAP_SERVERS.key() + "=localhost:9092"));
        checkBootstrapServers(bootstrap);
        BootstrapHosts.requireResolvable(BOOTSTRAP_SERVERS.key(), bootstrap);
        Duration timeout = config.get(TRANSACTION_TIMEOUT);
        if (timeout.compareTo(BROKER_MAX_TRANSACTION_TIMEOUT) > 0 || timeout.toMillis() < 1_000) {
            throw new IllegalArgumentException("'" + TRANSACTION_TIMEOUT.key() + "' must be between 1 s and "
                    + BROKER_MAX_TRANSACTION_TIMEOUT.toMinutes() + " min, the broker's transaction.max.timeout.ms"
                    + " (was " + timeout + "); a larger value makes every transaction fail and the job restart"
                    + " forever");
        }
        Map<String, String> all = config.toMap();
        Properties extra = new Properties();
        all.forEach((k, v) -> {
            if (k.startsWith(PROPERTIES_PREFIX)) {
                extra.setProperty(k.substring(PROPERTIES_PREFIX.length()), v);
            }
        });
        KafkaSecurity.check(extra);
        String textGroup = config.get(GROUP_ID);
        String imageGroup = imageGroupId(config);
        if (textGroup.isBlank() || imageGroup.isBlank()) {
            throw new IllegalArgumentException("'" + GROUP_ID.key() + "' and '" + IMAGE_GROUP_ID.key()
                    + "' must not be blank (were '" + textGroup + "' and '" + imageGroup + "')");
        }
        if (imageGroup.equals(textGroup)) {
            throw new IllegalArgumentException("'" + IMAGE_GROUP_ID.key() + "' must differ from '" + GROUP_ID.key()
                    + "' (both '" + textGroup + "'): the text and image sources commit their offsets to their own"
                    + " consumer groups, so that each group's lag is one source's lag");
        }
        return new KafkaSettings(bootstrap, textGroup, imageGroup, config.get(STARTING_OFFSETS),
                deliveryGuarantee(config.get(DELIVERY_GUARANTEE)), config.get(TRANSACTIONAL_ID_PREFIX), timeout, extra,
                new KafkaSettings.Topics(config.get(TOPIC_TEXT), config.get(TOPIC_IMAGE), config.get(TOPIC_CORPUS),
                        config.get(TOPIC_ENRICHED), config.get(TOPIC_DLQ), config.get(TOPIC_TOPICS)),
                sinkLimits(config, extra));
    }

    /** The image source's consumer group: {@code inflow.kafka.image-group-id}, else derived from the text group. */
    public static String imageGroupId(ReadableConfig config) {
        return config.getOptional(IMAGE_GROUP_ID).orElseGet(() -> defaultImageGroup(config.get(GROUP_ID)));
    }

    /** The image source's group when none is configured: {@code x-text} -> {@code x-image}, {@code x} -> {@code x-image}. */
    static String defaultImageGroup(String textGroup) {
        return textGroup.endsWith("-text")
                ? textGroup.substring(0, textGroup.length() - "-text".length()) + "-image"
                : textGroup + "-image";
    }

    /** The sinks' size limits: max.request.size from the pass-through properties, the dead-letter share. */
    private static SinkLimits sinkLimits(ReadableConfig config, Properties extra) {
        String request = extra.getProperty("max.request.size");
        int maxRequest = SinkLimits.DEFAULT_MAX_REQUEST_BYTES;
        if (request != null) {
            try {
                maxRequest = Integer.parseInt(request.strip());
            } catch (NumberFormatException e) {
                maxRequest = -1;
            }
            if (maxRequest < 64 << 10) {
                throw new IllegalArgumentException("'" + PROPERTIES_PREFIX + "max.request.size' must be a number of"
                        + " bytes of at least 65536 (was '" + request + "')");
            }
        }
        long original = config.get(DEAD_LETTER_MAX_ORIGINAL_BYTES).getBytes();
        if (original > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("'" + DEAD_LETTER_MAX_ORIGINAL_BYTES.key() + "' is too large (was "
                    + original + " bytes)");
        }
        return new SinkLimits(maxRequest, (int) original);
    }

    /** Every comma-separated entry must be host:port with a port in 1..65535. */
    private static void checkBootstrapServers(String bootstrap) {
        if (bootstrap.isBlank()) {
            throw new IllegalArgumentException("'" + BOOTSTRAP_SERVERS.key() + "' is empty: give host:port[,host:port]");
        }
        for (String entry : bootstrap.split(",")) {
            String e = entry.strip();
            int colon = e.lastIndexOf(':');
            boolean ok = colon > 0 && colon < e.length() - 1;
            if (ok) {
                try {
                    int port = Integer.parseInt(e.substring(colon + 1));
                    ok = port >= 1 && port <= 65_535;
                } catch (NumberFormatException nfe) {
                    ok = false;
                }
            }
            if (!ok) {
                throw new IllegalArgumentException("'" + BOOTSTRAP_SERVERS.key() + "' must be host:port[,host:port]"
                        + " with ports 1..65535; entry '" + e + "' of '" + bootstrap + "' is not");
            }
        }
    }

    /** Parses exactly-once / at-least-once in Flink's or in enum spelling. */
    static DeliveryGuarantee deliveryGuarantee(String value) {
        String v = value.strip().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        return switch (v) {
            case "exactly-once" -> DeliveryGuarantee.EXACTLY_ONCE;
            case "at-least-once" -> DeliveryGuarantee.AT_LEAST_ONCE;
            default -> throw new IllegalArgumentException("'" + DELIVERY_GUARANTEE.key() + "' must be exactly-once"
                    + " or at-least-once (was '" + value + "')");
        };
    }
}
