package io.inflow.gpu.cluster;

import org.tribuo.Example;
import org.tribuo.MutableDataset;
import org.tribuo.clustering.ClusterID;
import org.tribuo.clustering.ClusteringFactory;
import org.tribuo.clustering.hdbscan.HdbscanModel;
import org.tribuo.clustering.hdbscan.HdbscanTrainer;
import org.tribuo.impl.ArrayExample;
import org.tribuo.math.distance.CosineDistance;
import org.tribuo.math.distance.L2Distance;
import org.tribuo.math.neighbour.NeighboursQueryFactoryType;
import org.tribuo.provenance.SimpleDataSourceProvenance;

import java.util.List;

/**
 * Tribuo's HDBSCAN* (test-scope oracle): {@code k} = {@code minSamples} (the point itself included), brute-force
 * neighbours. Tribuo labels noise 0; here it is -1 like ours.
 *
 * <p>{@code int[] labels = TribuoHdbscan.labels(points, params, 2);}
 */
public final class TribuoHdbscan {

    private TribuoHdbscan() {
    }

    public static int[] labels(Points points, HdbscanParams params, int threads) {
        String[] names = new String[points.dim()];
        for (int k = 0; k < names.length; k++) {
            names[k] = String.format("f%05d", k);
        }
        ClusteringFactory factory = new ClusteringFactory();
        MutableDataset<ClusterID> data = new MutableDataset<>(new SimpleDataSourceProvenance("points", factory),
                factory);
        for (int i = 0; i < points.n(); i++) {
            float[] row = points.row(i);
            double[] values = new double[row.length];
            for (int k = 0; k < row.length; k++) {
                values[k] = row[k];
            }
            Example<ClusterID> e = new ArrayExample<>(ClusteringFactory.UNASSIGNED_CLUSTER_ID, names, values);
            data.add(e);
        }
        HdbscanTrainer trainer = new HdbscanTrainer(params.minClusterSize(),
                params.metric() == ClusterMetric.L2 ? new L2Distance() : new CosineDistance(), params.minSamples(),
                threads, NeighboursQueryFactoryType.BRUTE_FORCE);
        HdbscanModel model = trainer.train(data);
        List<Integer> raw = model.getClusterLabels();
        int[] labels = new int[raw.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = raw.get(i) == 0 ? -1 : raw.get(i);
        }
        return labels;
    }
}
