package io.inflow.jobs.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/**
 * Flink configuration keys of the topic tree (nested-density clustering): per tenant and modality, the last
 * {@code inflow.topics.window} embeddings are clustered into a density tree, rebuilt every
 * {@code inflow.topics.rebuild-every} events or {@code inflow.topics.rebuild-interval}; every event is assigned at once
 * to the current tree ({@code topic} on the enriched event) and every rebuild is written to the
 * {@code inflow.topics.topic-trees} topic. Off by default; the demo turns it on.
 *
 * <p>{@code ./inflow run -Dinflow.topics.enabled=true -Dinflow.topics.window=5000 -Dinflow.topics.pca-components=5}
 */
public final class TopicOptions {

    public static final ConfigOption<Boolean> ENABLED = ConfigOptions.key("inflow.topics.enabled")
            .booleanType().defaultValue(false)
            .withDescription("Cluster each tenant's recent embeddings into a topic tree, label every event with its"
                    + " topic path and publish the tree on every rebuild.");

    public static final ConfigOption<Integer> WINDOW = ConfigOptions.key("inflow.topics.window")
            .intType().defaultValue(2000)
            .withDescription("Last events per tenant and modality that are clustered (keyed state).");

    public static final ConfigOption<Integer> REBUILD_EVERY = ConfigOptions.key("inflow.topics.rebuild-every")
            .intType().defaultValue(500)
            .withDescription("Rebuild a tenant's tree after this many new events (the first tree too).");

    public static final ConfigOption<Duration> REBUILD_INTERVAL = ConfigOptions.key("inflow.topics.rebuild-interval")
            .durationType().defaultValue(Duration.ofSeconds(60))
            .withDescription("Or after this long since the last rebuild, when new events came in.");

    public static final ConfigOption<Integer> MIN_SAMPLES = ConfigOptions.key("inflow.topics.min-samples")
            .intType().defaultValue(5)
            .withDescription("Neighbours that make an event's core distance, the event itself included (HDBSCAN's"
                    + " min_samples); larger values smooth the density.");

    public static final ConfigOption<Integer> MIN_CLUSTER_SIZE = ConfigOptions.key("inflow.topics.min-cluster-size")
            .intType().defaultValue(10)
            .withDescription("Fewest events a topic holds; smaller groups splitting off are noise.");

    public static final ConfigOption<String> METRIC = ConfigOptions.key("inflow.topics.metric")
            .stringType().defaultValue("l2")
            .withDescription("l2 or cosine (1 - cosine similarity).");

    public static final ConfigOption<String> SELECTION = ConfigOptions.key("inflow.topics.selection")
            .stringType().defaultValue("eom")
            .withDescription("Flat topics: eom (excess of mass, HDBSCAN's default) or leaf (the finest topics).");

    public static final ConfigOption<Integer> PCA_COMPONENTS = ConfigOptions.key("inflow.topics.pca-components")
            .intType().defaultValue(0)
            .withDescription("Cluster on the first this many principal components of the window (the nested-density"
                    + " paper found 2-10 better than full vectors); 0: full vectors.");

    public static final ConfigOption<String> TENANT_ATTRIBUTE = ConfigOptions.key("inflow.topics.tenant-attribute")
            .stringType().defaultValue("tenant")
            .withDescription("Event attribute naming the tenant; events without it share the tenant 'default'.");

    public static final ConfigOption<Integer> REPRESENTATIVES = ConfigOptions.key("inflow.topics.representatives")
            .intType().defaultValue(3)
            .withDescription("Densest members named (id and text) per node of a published tree.");

    private TopicOptions() {
    }
}
