package io.inflow.gpu.cluster;

import elki.clustering.hierarchical.HDBSCANLinearMemory;
import elki.clustering.hierarchical.extraction.HDBSCANHierarchyExtraction;
import elki.data.Cluster;
import elki.data.Clustering;
import elki.data.NumberVector;
import elki.data.model.Model;
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
        Relation<NumberVector> relation = relation(points);
        HDBSCANLinearMemory<NumberVector> hdbscan = params.metric() == ClusterMetric.L2
                ? new HDBSCANLinearMemory<>(EuclideanDistance.STATIC, params.minSamples())
                : new HDBSCANLinearMemory<>(CosineDistance.STATIC, params.minSamples());
        HDBSCANHierarchyExtraction extraction = new HDBSCANHierarchyExtraction(hdbscan, params.minClusterSize(),
                false);
        return labelsOf(extraction.run(hdbscan.run(relation)), relation);
    }

    /** The points as an ELKI relation (a static database of double vectors, ids in point order). */
    static Relation<NumberVector> relation(Points points) {
        double[][] rows = new double[points.n()][points.dim()];
        for (int i = 0; i < points.n(); i++) {
            float[] r = points.row(i);
            for (int k = 0; k < r.length; k++) {
                rows[i][k] = r[k];
            }
        }
        Database db = new StaticArrayDatabase(new ArrayAdapterDatabaseConnection(rows));
        db.initialize();
        return db.getRelation(TypeUtil.NUMBER_VECTOR_FIELD);
    }

    /** An ELKI clustering as labels in point order: clusters 0..m-1, noise clusters -1. */
    static int[] labelsOf(Clustering<? extends Model> clustering, Relation<NumberVector> relation) {
        DBIDRange ids = (DBIDRange) relation.getDBIDs();
        int[] labels = new int[ids.size()];
        Arrays.fill(labels, -1);
        int next = 0;
        for (Cluster<? extends Model> c : clustering.getAllClusters()) {
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
