package io.inflow.connectors.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
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
     * Largest record on Inflow's topics (topic-level {@code max.message.bytes}). A dead-letter record holds the
     * rejected value base64-encoded (4/3 of its size), so the dead-letter topic must take records about 1.4 times
     * larger than the input topics; 16 MiB on every topic covers inputs up to about 11 MiB.
     */
    public static final int MAX_MESSAGE_BYTES = 16 << 20;

    /** The topics of the pipeline with their configuration: the corpus is compacted (upsert / delete by doc id). */
    public static List<NewTopic> topics(KafkaSettings.Topics t, int partitions, short replication) {
        Map<String, String> large = Map.of("max.message.bytes", Integer.toString(MAX_MESSAGE_BYTES));
        List<NewTopic> out = new ArrayList<>();
        for (String name : List.of(t.text(), t.image(), t.enriched(), t.deadLetter(), t.topicTrees())) {
            out.add(new NewTopic(name, partitions, replication).configs(large));
        }
        out.add(new NewTopic(t.corpus(), partitions, replication).configs(Map.of("cleanup.policy", "compact",
                "max.message.bytes", Integer.toString(MAX_MESSAGE_BYTES))));
        return out;
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
        try (Admin admin = Admin.create(props)) {
            for (NewTopic topic : topics(settings.topics(), partitions, replication)) {
                try {
                    admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
                    LOG.info("created topic {} ({} partitions, replication {})", topic.name(), partitions,
                            replication);
                } catch (ExecutionException e) {
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
     * The topics of {@code names} that do not exist on the cluster.
     *
     * @throws IllegalStateException when the cluster cannot be reached within 30 s
     */
    public static List<String> missing(KafkaSettings settings, List<String> names) {
        Properties props = settings.clientProperties();
        props.setProperty("request.timeout.ms", "15000");
        props.setProperty("default.api.timeout.ms", "30000");
        try (Admin admin = Admin.create(props)) {
            java.util.Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            return names.stream().filter(n -> !existing.contains(n)).distinct().toList();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing topics", e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka at " + settings.bootstrapServers() + " did not list its topics"
                    + " within 30 s (" + e.getMessage() + "); check inflow.kafka.bootstrap-servers", e);
        }
    }
}
