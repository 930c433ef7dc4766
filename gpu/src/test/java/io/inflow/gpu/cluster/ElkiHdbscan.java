package io.inflow.gpu.cluster;

import elki.clustering.hierarchical.HDBSCANLinearMemory;
import elki.clustering.hierarchical.extraction.HDBSCANHierarchyExtraction;
import elki.data.Cluster;
import elki.data.Clustering;
import elki.data.NumberVector;
import elki.data.model.DendrogramModel;
import elki.data.type.TypeUtil;
import elki.database.Database;
import elki.database.StaticArrayDatabase;
import elki.database.ids.DBIDIter;
import elki.database.ids.DBIDRange;
import elki.database.relation.Relation;
import elki.datasource.ArrayAdapterDatabaseConnection;
import elki.distance.minkowski.EuclideanDistance;
import elki.distance.CosineDistance;

import java.util.Arrays;

/**
 * ELKI's HDBSCAN* (test-scope oracle): {@code HDBSCANLinearMemory} with {@code minPts} = {@code minSamples}, flat
 * clusters by {@code HDBSCANHierarchyExtraction} (not hierarchical). Noise clusters become -1.
 *
 * <p>{@code int[] labels = ElkiHdbscan.labels(points, params);}
 */
public final class ElkiHdbscan {

    private ElkiHdbscan() {
    }

    public static int[] labels(Points points, HdbscanParams params) {
        double[][] rows = new double[points.n()][points.dim()];
        for (int i = 0; i < points.n(); i++) {
            float[] r = points.row(i);
            for (int k = 0; k < r.length; k++) {
                rows[i][k] = r[k];
            }
        }
        Database db = new StaticArrayDatabase(new ArrayAdapterDatabaseConnection(rows));
        db.initialize();
        Relation<NumberVector> relation = db.getRelation(TypeUtil.NUMBER_VECTOR_FIELD);
        DBIDRange ids = (DBIDRange) relation.getDBIDs();
        HDBSCANLinearMemory<NumberVector> hdbscan = params.metric() == ClusterMetric.L2
                ? new HDBSCANLinearMemory<>(EuclideanDistance.STATIC, params.minSamples())
                : new HDBSCANLinearMemory<>(CosineDistance.STATIC, params.minSamples());
        HDBSCANHierarchyExtraction extraction = new HDBSCANHierarchyExtraction(hdbscan, params.minClusterSize(),
                false);
        Clustering<DendrogramModel> clustering = extraction.run(hdbscan.run(relation));
        int[] labels = new int[points.n()];
        Arrays.fill(labels, -1);
        int next = 0;
        for (Cluster<DendrogramModel> c : clustering.getAllClusters()) {
            if (c.isNoise()) {
                continue;
            }
            int label = next++;
            for (DBIDIter it = c.getIDs().iter(); it.valid(); it.advance()) {
                labels[ids.getOffset(it)] = label;
            }
        }
        return labels;
    }
}
