package io.inflow.operators.topics;

import java.util.List;

/**
 * A rebuilt topic tree, as written to the {@code topics} topic: every node (root first, parents before children)
 * and what changed since the previous tree.
 *
 * <p>{@code snapshot.nodes().stream().filter(TopicNode::selected).count()} flat topics.
 *
 * @param key tenant and modality
 * @param version 1 for the first tree of the key, then one up per rebuild
 * @param builtAtMs wall-clock time the rebuild finished
 * @param windowSize events clustered
 * @param noiseShare share of them labelled noise
 * @param buildMillis time the rebuild took
 * @param churn share of topics that changed: (born + died) / (topics before + topics after)
 * @param nodes the tree
 * @param changes births, splits, merges and deaths of topics
 */
public record TopicTreeSnapshot(String key, long version, long builtAtMs, int windowSize, double noiseShare,
        long buildMillis, double churn, List<TopicNode> nodes, List<TopicChange> changes) {
}
