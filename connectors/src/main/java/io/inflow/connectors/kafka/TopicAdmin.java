package io.inflow.connectors.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Creates Inflow's topics when they do not exist; existing topics are left as they are.
 *
 * <p>{@code TopicAdmin.ensureTopics(settings, 3, (short) 1);}
 */
public final class TopicAdmin {

    private static final Logger LOG = LoggerFactory.getLogger(TopicAdmin.class);

    private TopicAdmin() {
    }

    /**
     * Largest record on Inflow's input topics (topic-level {@code max.message.bytes}). Inputs over
     * {@code inflow.schemas.max-record-bytes} are dead-lettered, with their bytes cut to fit the dead-letter topic
     * ({@link SinkLimits}), so the input topics may accept more than the pipeline processes.
     */
    public static final int MAX_MESSAGE_BYTES = 16 << 20;

    /**
     * The topics of the pipeline with their configuration: inputs take records up to {@link #MAX_MESSAGE_BYTES};
     * outputs one producer request ({@link SinkLimits#outputTopicMaxMessageBytes()}); the corpus is compacted
     * (upsert / delete by doc id).
     */
    public static List<NewTopic> topics(KafkaSettings.Topics t, SinkLimits limits, int partitions,
            short replication) {
        Map<String, String> input = Map.of("max.message.bytes", Integer.toString(MAX_MESSAGE_BYTES));
        Map<String, String> output = Map.of("max.message.bytes",
                Integer.toString(limits.outputTopicMaxMessageBytes()));
        List<NewTopic> out = new ArrayList<>();
        for (String name : List.of(t.text(), t.image())) {
            out.add(new NewTopic(name, partitions, replication).configs(input));
        }
        for (String name : List.of(t.enriched(), t.deadLetter(), t.topicTrees())) {
            out.add(new NewTopic(name, partitions, replication).configs(output));
        }
        out.add(new NewTopic(t.corpus(), partitions, replication).configs(Map.of("cleanup.policy", "compact",
                "max.message.bytes", Integer.toString(MAX_MESSAGE_BYTES))));
        return out;
    }

    /**
     * Fails when an existing output topic takes smaller records than the sinks may write (its
     * {@code max.message.bytes}, or the broker's {@code message.max.bytes} it inherits): a dead letter or an
     * enriched event would then be refused and fail the job. Missing topics pass (the broker may create them with
     * its defaults, checked when they exist).
     *
     * @throws IllegalArgumentException naming the topic, its limit and what to change
     */
    public static void checkOutputLimits(KafkaSettings settings) {
        SinkLimits limits = settings.sinkLimits();
        Map<String, Long> need = new java.util.LinkedHashMap<>();
        need.put(settings.topics().deadLetter(), limits.maxDeadLetterBytes() + SinkLimits.RECORD_OVERHEAD_BYTES);
        // enriched events are checked one by one against max.request.size before they reach the sink
        need.put(settings.topics().enriched(), (long) limits.maxRequestBytes());
        Properties props = settings.clientProperties();
        props.setProperty("request.timeout.ms", "15000");
        props.setProperty("default.api.timeout.ms", "30000");
        try (Admin admin = open(settings, props)) {
            java.util.Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<org.apache.kafka.common.config.ConfigResource> resources = need.keySet().stream()
                    .filter(existing::contains)
                    .map(n -> new org.apache.kafka.common.config.ConfigResource(
                            org.apache.kafka.common.config.ConfigResource.Type.TOPIC, n))
                    .toList();
            var configs = admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS);
            for (var e : configs.entrySet()) {
                var entry = e.getValue().get("max.message.bytes");
                if (entry == null || entry.value() == null) {
                    continue;
                }
                long topicMax = Long.parseLong(entry.value());
                long needed = need.get(e.getKey().name());
                if (topicMax < needed) {
                    throw new IllegalArgumentException("topic " + e.getKey().name() + " takes records of at most "
                            + topicMax + " bytes (max.message.bytes), but Inflow may write records of " + needed
                            + " bytes to it: raise the topic's max.message.bytes to at least " + needed
                            + ", or lower '" + KafkaOptions.PROPERTIES_PREFIX + "max.request.size' and '"
                            + KafkaOptions.DEAD_LETTER_MAX_ORIGINAL_BYTES.key() + "' (at most "
                            + SinkLimits.largestOriginalFor((int) Math.min(Integer.MAX_VALUE, topicMax))
                            + " bytes for this topic)");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading topic configurations", e);
        } catch (ExecutionException e) {
            throw failure(settings, "describing its topics", e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka at " + settings.bootstrapServers() + " did not describe its topics"
                    + " within 30 s (" + e.getMessage() + "); check inflow.kafka.bootstrap-servers", e);
        }
    }

    /**
     * Creates the missing topics and waits for the result.
     *
     * @throws IllegalStateException when the cluster cannot be reached or refuses a topic
     */
    public static void ensureTopics(KafkaSettings settings, int partitions, short replication) {
        Properties props = settings.clientProperties();
        props.setProperty("request.timeout.ms", "15000");
        props.setProperty("default.api.timeout.ms", "30000");
        try (Admin admin = open(settings, props)) {
            for (NewTopic topic : topics(settings.topics(), settings.sinkLimits(), partitions, replication)) {
                try {
                    admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
                    LOG.info("created topic {} ({} partitions, replication {})", topic.name(), partitions,
                            replication);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof AuthenticationException
                            || e.getCause() instanceof AuthorizationException) {
                        throw failure(settings, "creating topic " + topic.name(), e.getCause());
                    }
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + topic.name() + " on "
                                + settings.bootstrapServers() + ": " + e.getCause().getMessage(), e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka at " + settings.bootstrapServers() + " did not answer within 30 s"
                    + " while creating topics; check inflow.kafka.bootstrap-servers", e);
        }
    }

    /**
     * An admin client; a client configuration Kafka refuses (e.g. a trust store it cannot load) fails naming the
     * {@code inflow.kafka.properties.*} settings, without their secret values.
     */
    static Admin open(KafkaSettings settings, Properties props) {
        try {
            return Admin.create(props);
        } catch (KafkaException e) {
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            throw new IllegalArgumentException(KafkaSecurity.scrub("cannot create a Kafka client for "
                    + settings.bootstrapServers() + ": " + e.getMessage() + " (" + root + "); check the '"
                    + KafkaOptions.PROPERTIES_PREFIX + "*' settings", propertyMap(props)), e);
        }
    }

    /**
     * What a failed admin call means for the user: refused credentials or TLS name the security settings to check;
     * anything else says what failed and where.
     */
    static RuntimeException failure(KafkaSettings settings, String doing, Throwable cause) {
        String where = "Kafka at " + settings.bootstrapServers();
        Map<String, String> props = propertyMap(settings.clientProperties());
        String p = KafkaOptions.PROPERTIES_PREFIX;
        if (cause instanceof SslAuthenticationException) {
            return new IllegalArgumentException(KafkaSecurity.scrub(where + ": TLS handshake failed while "
                    + doing + " (" + cause.getMessage() + "); check '" + p + "security.protocol', '" + p
                    + "ssl.truststore.location' (the CA that signed the broker's certificate) and '" + p
                    + "ssl.endpoint.identification.algorithm' (the broker's host name must be in its certificate)",
                    props), cause);
        }
        if (cause instanceof AuthenticationException) {
            return new IllegalArgumentException(KafkaSecurity.scrub(where + " refused Inflow's login while "
                    + doing + " (" + cause.getMessage() + "); check the user name and password in '" + p
                    + "sasl.jaas.config' and '" + p + "sasl.mechanism' (the broker must enable it)", props), cause);
        }
        if (cause instanceof AuthorizationException) {
            return new IllegalArgumentException(KafkaSecurity.scrub(where + " denied " + doing + " ("
                    + cause.getMessage() + "): the user of '" + p + "sasl.jaas.config' needs ACLs for Inflow's"
                    + " topics, consumer groups and transactional ids", props), cause);
        }
        return new IllegalStateException(KafkaSecurity.scrub(where + " failed while " + doing + ": " + cause,
                props), cause);
    }

    private static Map<String, String> propertyMap(Properties props) {
        Map<String, String> m = new java.util.HashMap<>();
        props.stringPropertyNames().forEach(k -> m.put(k, props.getProperty(k)));
        return m;
    }

    /**
     * The topics of {@code names} that do not exist on the cluster.
     *
     * @throws IllegalStateException when the cluster cannot be reached within 30 s
     */
    public static List<String> missing(KafkaSettings settings, List<String> names) {
        Properties props = settings.clientProperties();
        props.setProperty("request.timeout.ms", "15000");
        props.setProperty("default.api.timeout.ms", "30000");
        try (Admin admin = open(settings, props)) {
            java.util.Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            return names.stream().filter(n -> !existing.contains(n)).distinct().toList();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing topics", e);
        } catch (ExecutionException e) {
            throw failure(settings, "listing its topics", e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka at " + settings.bootstrapServers() + " did not list its topics"
                    + " within 30 s (" + e.getMessage() + "); check inflow.kafka.bootstrap-servers", e);
        }
    }
}
