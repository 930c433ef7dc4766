package io.inflow.jobs.config;

import io.inflow.gpu.cluster.ClusterMetric;
import io.inflow.gpu.cluster.HdbscanParams;
import io.inflow.operators.topics.TopicSettings;

import org.apache.flink.configuration.ReadableConfig;

import java.io.Serializable;
import java.util.Locale;

/**
 * The topic tree's settings read from {@link TopicOptions}, validated at start (a bad value names its key).
 *
 * <p>{@code TopicJobSettings t = TopicJobSettings.from(config, 384, 2);  // null when inflow.topics.enabled is false}
 *
 * @param tree the operator's settings for text events (the text model's width)
 * @param tenantAttribute event attribute naming the tenant
 * @param threads clustering threads per operator instance
 */
public record TopicJobSettings(TopicSettings tree, String tenantAttribute, int threads) implements Serializable {

    /** The settings, or null when {@code inflow.topics.enabled} is false. */
    public static TopicJobSettings from(ReadableConfig config, int textDim, int threads) {
        if (!config.get(TopicOptions.ENABLED)) {
            return null;
        }
        int window = Ranges.between(config, TopicOptions.WINDOW, 2, 1_000_000);
        int every = Ranges.between(config, TopicOptions.REBUILD_EVERY, 1, 100_000_000);
        int minSamples = Ranges.between(config, TopicOptions.MIN_SAMPLES, 1, 1000);
        int minClusterSize = Ranges.between(config, TopicOptions.MIN_CLUSTER_SIZE, 2, 1_000_000);
        int pca = Ranges.between(config, TopicOptions.PCA_COMPONENTS, 0, textDim);
        int reps = Ranges.between(config, TopicOptions.REPRESENTATIVES, 0, 100);
        if (window <= minSamples || window < minClusterSize) {
            throw new IllegalArgumentException("'" + TopicOptions.WINDOW.key() + "' (" + window + ") must exceed '"
                    + TopicOptions.MIN_SAMPLES.key() + "' (" + minSamples + ") and hold '"
                    + TopicOptions.MIN_CLUSTER_SIZE.key() + "' (" + minClusterSize + ")");
        }
        if (config.get(TopicOptions.REBUILD_INTERVAL).isNegative() || config.get(TopicOptions.REBUILD_INTERVAL)
                .isZero()) {
            throw new IllegalArgumentException("'" + TopicOptions.REBUILD_INTERVAL.key() + "' must be positive");
        }
        ClusterMetric metric;
        try {
            metric = ClusterMetric.parse(config.get(TopicOptions.METRIC));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + TopicOptions.METRIC.key() + "': " + e.getMessage(), e);
        }
        HdbscanParams.Selection selection;
        try {
            selection = HdbscanParams.Selection.valueOf(config.get(TopicOptions.SELECTION).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + TopicOptions.SELECTION.key() + "': unknown selection '"
                    + config.get(TopicOptions.SELECTION) + "'; use eom or leaf", e);
        }
        String tenant = config.get(TopicOptions.TENANT_ATTRIBUTE);
        if (tenant.isBlank()) {
            throw new IllegalArgumentException("'" + TopicOptions.TENANT_ATTRIBUTE.key() + "' must not be empty");
        }
        TopicSettings tree = new TopicSettings(window, every, config.get(TopicOptions.REBUILD_INTERVAL),
                new HdbscanParams(minSamples, minClusterSize, metric, selection), pca, textDim, reps);
        return new TopicJobSettings(tree, tenant, threads);
    }

    /** The same settings at another embedding width (the image model's), PCA capped to it. */
    public TopicSettings forDim(int dim) {
        return new TopicSettings(tree.windowSize(), tree.rebuildEvery(), tree.rebuildInterval(), tree.params(),
                Math.min(tree.pcaComponents(), dim), dim, tree.representatives());
    }
}
