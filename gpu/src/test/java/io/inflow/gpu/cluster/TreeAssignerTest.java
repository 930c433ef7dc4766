package io.inflow.gpu.cluster;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A new point lands where the tree would put it: points drawn from a blob's distribution join that blob's flat
 * cluster (as the tree's own points of that blob are labelled), points far from everything are noise, and the path
 * runs from the assigned cluster up to the root.
 */
class TreeAssignerTest {

    @Test
    void newPointsJoinTheirBlobsAndOutliersAreNoise() {
        ClusterDataSets.Labelled set = ClusterDataSets.blobs(600, 4, 3, 0.0, 11);
        HdbscanParams params = new HdbscanParams(5, 20, ClusterMetric.L2, HdbscanParams.Selection.EOM);
        DensityTree tree = Hdbscan.reference().build(set.points(), params);
        assertThat(tree.flatClusters()).isEqualTo(3);
        TreeAssigner assigner = new TreeAssigner(set.points(), tree, params);
        Random rnd = new Random(5);
        int agree = 0;
        int trials = 60;
        for (int t = 0; t < trials; t++) {
            int anchor = rnd.nextInt(set.points().n());
            float[] x = set.points().row(anchor);
            for (int k = 0; k < x.length; k++) {
                x[k] += (float) (rnd.nextGaussian() * 0.05); // a near-copy of a tree point
            }
            TreeAssigner.Assignment a = assigner.assign(x);
            agree += a.label() == tree.labels()[anchor] ? 1 : 0;
            assertThat(a.path().get(a.path().size() - 1)).as("path ends at the root").isZero();
            if (a.label() >= 0) {
                assertThat(a.path()).as("path holds a selected cluster").anyMatch(c -> tree.selected()[c]);
            }
        }
        // a near-copy (0.05 noise against blob spreads of 0.5 and more) joins its anchor's cluster; a point at a
        // blob's rim may join as noise when its anchor was a cluster member: allow 5%
        assertThat(agree).as("near-copies labelled as their anchors").isGreaterThanOrEqualTo((int) (0.95 * trials));
        float[] far = new float[4];
        java.util.Arrays.fill(far, 1000f);
        TreeAssigner.Assignment outlier = assigner.assign(far);
        assertThat(outlier.noise()).as("a point far from every blob").isTrue();
        assertThat(outlier.path()).containsExactly(0);
    }
}
