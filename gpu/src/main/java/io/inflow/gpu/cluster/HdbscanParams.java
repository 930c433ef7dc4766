package io.inflow.gpu.cluster;

import java.io.Serializable;
import java.util.Objects;

/**
 * Parameters of the density tree, named as in HDBSCAN.
 *
 * <p>{@code new HdbscanParams(5, 10, ClusterMetric.L2, Selection.EOM)}
 *
 * @param minSamples neighbours that make a point's core distance, the point itself included (HDBSCAN*'s
 *     {@code minPts}, ELKI's {@code minPts}, Tribuo's {@code k}); larger values smooth the density estimate
 * @param minClusterSize fewest points a cluster of the tree may hold; smaller groups splitting off are noise
 * @param metric the distance between embeddings
 * @param selection how the flat clusters are picked from the tree
 */
public record HdbscanParams(int minSamples, int minClusterSize, ClusterMetric metric, Selection selection)
        implements Serializable {

    /** How flat clusters are selected from the condensed tree. */
    public enum Selection {
        /** Excess of mass: the clusters of greatest total stability, none nested in another (HDBSCAN's default). */
        EOM,
        /** The leaves of the condensed tree: the finest clusters of at least {@code minClusterSize} points. */
        LEAF
    }

    public HdbscanParams {
        if (minSamples < 1) {
            throw new IllegalArgumentException("minSamples must be at least 1 (was " + minSamples + ")");
        }
        if (minClusterSize < 2) {
            throw new IllegalArgumentException("minClusterSize must be at least 2 (was " + minClusterSize + ")");
        }
        Objects.requireNonNull(metric, "metric");
        Objects.requireNonNull(selection, "selection");
    }
}
