package io.inflow.gpu.cluster;

import elki.clustering.dbscan.DBSCAN;
import elki.data.NumberVector;
import elki.database.relation.Relation;
import elki.distance.minkowski.EuclideanDistance;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The stepped-radius mode is DBSCAN at every level: the same core points and the same clusters as ELKI's DBSCAN
 * (ARI 1.0 over core points; border points may legitimately join either of two clusters that reach them, so over all
 * points ARI >= 0.99), and each level's clusters nest into the next level's.
 */
class SteppedRadiusTest {

    @Test
    void everyLevelIsElkiDbscan() {
        ClusterDataSets.Labelled set = ClusterDataSets.blobs(500, 4, 4, 0.1, 3);
        int minSamples = 5;
        List<SteppedRadius.Level> levels = SteppedRadius.build(set.points(), minSamples, ClusterMetric.L2, 0.6, 0.6,
                40, ReferenceClustering.INSTANCE);
        double[] core = CoreDistances.reference(set.points(), minSamples, ClusterMetric.L2);
        assertThat(levels.size()).as("levels up to a single root").isBetween(3, 40);
        SteppedRadius.Level last = levels.get(levels.size() - 1);
        assertThat(last.clusters()).as("the last level is the root").isEqualTo(1);
        boolean sawSeveral = false;
        for (int l = 0; l < levels.size(); l++) {
            SteppedRadius.Level level = levels.get(l);
            int[] elki = elkiDbscan(set.points(), level.eps(), minSamples);
            int[] coreOurs = onCore(level.labels(), core, level.eps());
            int[] coreElki = onCore(elki, core, level.eps());
            assertThat(ClusterAgreement.adjustedRandIndex(coreOurs, coreElki)).as("core points at eps %.2f",
                    level.eps()).isEqualTo(1.0);
            assertThat(ClusterAgreement.adjustedRandIndex(level.labels(), elki)).as("all points at eps %.2f",
                    level.eps()).isGreaterThanOrEqualTo(0.99);
            sawSeveral |= level.clusters() > 1;
            if (l + 1 < levels.size()) {
                for (int c = 0; c < level.clusters(); c++) {
                    assertThat(level.parentAtNext()[c]).as("cluster %d at eps %.2f nests", c, level.eps())
                            .isBetween(0, levels.get(l + 1).clusters() - 1);
                }
            }
        }
        assertThat(sawSeveral).as("some level has several clusters").isTrue();
        // negative control: the comparison tells radii apart (DBSCAN at twice the first radius is another clustering)
        SteppedRadius.Level first = levels.get(0);
        assertThat(ClusterAgreement.adjustedRandIndex(first.labels(),
                elkiDbscan(set.points(), 2 * first.eps(), minSamples))).isLessThan(0.99);
    }

    /** Labels of core points only (others dropped), as a dense array. */
    private static int[] onCore(int[] labels, double[] core, double eps) {
        return java.util.stream.IntStream.range(0, labels.length).filter(i -> core[i] <= eps).map(i -> labels[i])
                .toArray();
    }

    static int[] elkiDbscan(Points points, double eps, int minPts) {
        Relation<NumberVector> relation = ElkiHdbscan.relation(points);
        return ElkiHdbscan.labelsOf(new DBSCAN<NumberVector>(EuclideanDistance.STATIC, eps, minPts).run(relation),
                relation);
    }
}
