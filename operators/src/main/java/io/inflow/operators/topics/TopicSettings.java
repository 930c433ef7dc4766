package io.inflow.operators.topics;

import io.inflow.gpu.cluster.HdbscanParams;

import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;

/**
 * How the topic tree of every key is kept: the window, when it is rebuilt, and the density-tree parameters.
 *
 * <p>{@code new TopicSettings(2000, 500, Duration.ofSeconds(60), params, 5, 384, 3)}
 *
 * @param windowSize events per key clustered (the last ones)
 * @param rebuildEvery a rebuild after this many new events of the key
 * @param rebuildInterval or after this long since the last one, when events came in meanwhile
 * @param params the density tree's parameters
 * @param pcaComponents cluster on the first this many principal components of the window (0: full vectors)
 * @param dim embedding dimension
 * @param representatives members named per node in snapshots
 */
public record TopicSettings(int windowSize, int rebuildEvery, Duration rebuildInterval, HdbscanParams params,
        int pcaComponents, int dim, int representatives) implements Serializable {

    public TopicSettings {
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(rebuildInterval, "rebuildInterval");
        if (windowSize <= params.minSamples() || windowSize < params.minClusterSize()) {
            throw new IllegalArgumentException("windowSize " + windowSize + " must exceed minSamples ("
                    + params.minSamples() + ") and hold minClusterSize (" + params.minClusterSize() + ")");
        }
        if (rebuildEvery < 1 || dim < 1 || representatives < 0) {
            throw new IllegalArgumentException("rebuildEvery and dim must be positive, representatives >= 0");
        }
        if (pcaComponents < 0 || pcaComponents > dim) {
            throw new IllegalArgumentException("pcaComponents must be between 0 (off) and dim " + dim + " (was "
                    + pcaComponents + ")");
        }
    }

    /** Events a key needs before its first tree: enough for core distances and one cluster. */
    public int minEventsForTree() {
        return Math.max(params.minSamples() + 1, params.minClusterSize());
    }
}
