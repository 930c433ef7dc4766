package io.inflow.operators.topics;

import io.inflow.gpu.cluster.Pca;
import io.inflow.gpu.cluster.TreeAssigner;

import java.util.ArrayList;
import java.util.List;

/**
 * A key's built tree, ready to assign arriving events (immutable, shared between the rebuild thread that makes it
 * and the compute thread that uses it): the assigner, the window's PCA (or none) and each tree cluster's stable topic
 * id.
 *
 * <p>{@code TopicAssignment a = model.assign(event);}
 */
public final class TopicModel {

    private final TreeAssigner assigner;
    private final Pca pca;
    private final long[] topicOfCluster;
    private final long version;

    TopicModel(TreeAssigner assigner, Pca pca, long[] topicOfCluster, long version) {
        this.assigner = assigner;
        this.pca = pca;
        this.topicOfCluster = topicOfCluster;
        this.version = version;
    }

    public long version() {
        return version;
    }

    /** The stable topic id of tree cluster {@code c}. */
    public long topicOf(int c) {
        return topicOfCluster[c];
    }

    /** Assigns one event. */
    public TopicAssignment assign(TopicEvent event) {
        float[] x = event.embedding();
        if (pca != null) {
            float[] reduced = new float[pca.count()];
            pca.project(x, 0, reduced, 0);
            x = reduced;
        }
        TreeAssigner.Assignment a = assigner.assign(x);
        List<Long> path = new ArrayList<>(a.path().size());
        long topic = -1;
        for (int c : a.path()) {
            path.add(topicOfCluster[c]);
            if (topic < 0 && assigner.tree().selected()[c]) {
                topic = topicOfCluster[c];
            }
        }
        return TopicAssignment.of(event, topic, List.copyOf(path), version, a.lambda());
    }
}
