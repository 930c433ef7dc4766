package io.inflow.gpu.backend;

import io.inflow.gpu.cluster.ClusterAgreement;
import io.inflow.gpu.cluster.ClusterMetric;
import io.inflow.gpu.cluster.ClusteringOps;
import io.inflow.gpu.cluster.CoreDistances;
import io.inflow.gpu.cluster.DensityTree;
import io.inflow.gpu.cluster.Hdbscan;
import io.inflow.gpu.cluster.HdbscanParams;
import io.inflow.gpu.cluster.Pca;
import io.inflow.gpu.cluster.Points;
import io.inflow.gpu.cluster.ReferenceClustering;
import io.inflow.gpu.cluster.SpanningTree;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The contract of the clustering family ({@link ClusteringOps}), written once and run on every backend (a subclass per
 * backend) against {@link ReferenceClustering} (double precision) on the same points: core distances, the spanning
 * tree (a spanning tree, and minimum: its total weight equals the reference's, which is the same for every minimum
 * spanning tree), the principal axes, and the density tree built on top (same flat clusters).
 *
 * <p>Cases: L2 and cosine, dims 1, 3, 8, 37 and 130 (multiples and non-multiples of the SIMD lanes), duplicates
 * (core distance 0), minSamples 1 and n, a single point, PCA on data with known axes, and bad arguments.
 */
public abstract class ClusteringContractTest {

    protected static final long SEED = 20261202L;
    /**
     * Relative tolerance of a float32 distance against the double reference: {@code sum((a - b)^2)} over {@code d}
     * terms rounds at most about {@code d * 2^-24} relative (worst-case, all terms positive), halved by the square
     * root; 1e-4 covers d = 130 with room for the retrieval kernel's {@code 2 a.b - |a|^2 - |b|^2} form on points of
     * norm up to 10x their distances (cancellation: relative error grows with {@code (|a|^2 + |b|^2) / |a - b|^2}).
     */
    static final double DISTANCE_REL_TOL = 1e-4;
    /** Absolute floor of the same tolerance (distances near 0, where only absolute error means anything). */
    static final double DISTANCE_ABS_TOL = 1e-4;

    protected Backend backend;
    protected ClusteringOps ops;

    protected abstract Backend create();

    @BeforeEach
    void open() {
        backend = create();
        ops = backend.clustering();
    }

    @AfterEach
    void close() {
        if (backend != null) { // null where create() skipped the test (no CUDA device)
            backend.close();
        }
    }

    static Points random(Random rnd, int n, int dim, int clusters, double spread) {
        float[][] centres = new float[clusters][dim];
        for (float[] c : centres) {
            for (int k = 0; k < dim; k++) {
                c[k] = (float) (rnd.nextGaussian() * 3);
            }
        }
        float[] data = new float[n * dim];
        for (int i = 0; i < n; i++) {
            float[] c = centres[i % clusters];
            for (int k = 0; k < dim; k++) {
                data[i * dim + k] = (float) (c[k] + rnd.nextGaussian() * spread);
            }
        }
        return new Points(data, n, dim);
    }

    private static double tol(double ref) {
        return DISTANCE_ABS_TOL + DISTANCE_REL_TOL * Math.abs(ref);
    }

    @Test
    void coreDistancesMatchTheReference() {
        Random rnd = new Random(SEED);
        for (ClusterMetric metric : ClusterMetric.values()) {
            for (int dim : new int[] {1, 3, 8, 37, 130}) {
                Points p = random(rnd, 300, dim, 4, 0.5);
                for (int minSamples : new int[] {1, 2, 5, 17, 300}) {
                    double[] ref = ReferenceClustering.INSTANCE.coreDistances(p, minSamples, metric);
                    double[] got = ops.coreDistances(p, minSamples, metric);
                    for (int i = 0; i < ref.length; i++) {
                        assertThat(got[i]).as("%s dim %d minSamples %d point %d", metric, dim, minSamples, i)
                                .isCloseTo(ref[i], org.assertj.core.data.Offset.offset(tol(ref[i])));
                    }
                }
            }
        }
    }

    /**
     * Points in {@link #coreDistancesOfManyLowDimensionalPoints}: enough for deep k-d trees on the fast backend. At
     * least 400 (the grid of ties and its duplicates).
     */
    protected int manyPoints() {
        return 3000;
    }

    /** Many PCA-like points (deep k-d trees on the fast backend), with duplicates and a grid of ties. */
    @Test
    void coreDistancesOfManyLowDimensionalPoints() {
        Random rnd = new Random(SEED + 4);
        for (int dim : new int[] {2, 5}) {
            Points p = random(rnd, manyPoints(), dim, 7, 0.8);
            float[] data = p.data();
            for (int i = 0; i < 300; i++) { // 300 points on an integer grid: many equal distances
                for (int k = 0; k < dim; k++) {
                    data[i * dim + k] = (i / 10 + k) % 5;
                }
            }
            System.arraycopy(data, 0, data, 300 * dim, 100 * dim); // 100 duplicates of grid points
            for (int minSamples : new int[] {5, 30}) {
                double[] ref = ReferenceClustering.INSTANCE.coreDistances(p, minSamples, ClusterMetric.L2);
                double[] got = ops.coreDistances(p, minSamples, ClusterMetric.L2);
                for (int i = 0; i < ref.length; i++) {
                    assertThat(got[i]).as("dim %d minSamples %d point %d", dim, minSamples, i)
                            .isCloseTo(ref[i], org.assertj.core.data.Offset.offset(tol(ref[i])));
                }
            }
        }
    }

    @Test
    void spanningTreeIsSpanningAndMinimum() {
        Random rnd = new Random(SEED + 1);
        for (ClusterMetric metric : ClusterMetric.values()) {
            for (int dim : new int[] {1, 3, 8, 37, 130}) {
                Points p = random(rnd, 400, dim, 5, 0.4);
                double[] core = ReferenceClustering.INSTANCE.coreDistances(p, 5, metric);
                SpanningTree ref = ReferenceClustering.INSTANCE.spanningTree(p, core, metric);
                SpanningTree got = ops.spanningTree(p, core, metric);
                assertSpanning(got, p.n(), metric + " dim " + dim);
                for (int e = 0; e < got.edges(); e++) {
                    int a = got.from()[e];
                    int b = got.to()[e];
                    double mr = CoreDistances.mutualReachability(core, a, b, metric.distance(p, a, b));
                    assertThat(got.weight()[e]).as("edge %d weight is its mutual reachability", e)
                            .isCloseTo(mr, org.assertj.core.data.Offset.offset(tol(mr)));
                    if (e > 0) {
                        assertThat(got.weight()[e]).as("sorted").isGreaterThanOrEqualTo(got.weight()[e - 1]);
                    }
                }
                assertThat(got.totalWeight()).as("%s dim %d total weight", metric, dim)
                        .isCloseTo(ref.totalWeight(), org.assertj.core.data.Offset.offset(
                                1e-5 * ref.totalWeight() + 1e-6));
            }
        }
    }

    @Test
    void duplicatesAndSmallSets() {
        float[] data = new float[40];
        for (int i = 0; i < 20; i++) {
            data[2 * i] = i / 4; // groups of 4 identical points
            data[2 * i + 1] = 0;
        }
        Points dup = new Points(data, 20, 2);
        double[] core = ops.coreDistances(dup, 4, ClusterMetric.L2);
        for (double c : core) {
            assertThat(c).as("core distance of a point with 3 duplicates at minSamples 4").isEqualTo(0.0);
        }
        SpanningTree mst = ops.spanningTree(dup, core, ClusterMetric.L2);
        assertSpanning(mst, 20, "duplicates");
        assertThat(mst.totalWeight()).as("15 zero edges, 4 of length 1").isCloseTo(4.0,
                org.assertj.core.data.Offset.offset(1e-6));
        Points one = new Points(new float[] {1, 2, 3}, 1, 3);
        assertThat(ops.coreDistances(one, 1, ClusterMetric.L2)).containsExactly(0.0);
        assertThat(ops.spanningTree(one, new double[] {0}, ClusterMetric.L2).edges()).isZero();
        assertThatThrownBy(() -> ops.coreDistances(dup, 21, ClusterMetric.L2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minSamples 21");
    }

    @Test
    void principalAxesMatchTheReference() {
        Random rnd = new Random(SEED + 2);
        int n = 2000;
        int dim = 37;
        // variance 25, 9, 4, 1 along four random orthonormal axes, 0.01 elsewhere: the first four axes are clear
        double[][] axes = orthonormal(rnd, 4, dim);
        double[] sd = {5, 3, 2, 1};
        float[] data = new float[n * dim];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < dim; k++) {
                data[i * dim + k] = (float) (1.5 + rnd.nextGaussian() * 0.1);
            }
            for (int a = 0; a < 4; a++) {
                double z = rnd.nextGaussian() * sd[a];
                for (int k = 0; k < dim; k++) {
                    data[i * dim + k] += (float) (z * axes[a][k]);
                }
            }
        }
        Points p = new Points(data, n, dim);
        Pca ref = ReferenceClustering.INSTANCE.principalComponents(p, 4);
        Pca got = ops.principalComponents(p, 4);
        for (int c = 0; c < 4; c++) {
            assertThat(got.eigenvalues()[c]).as("eigenvalue %d", c).isCloseTo(ref.eigenvalues()[c],
                    org.assertj.core.data.Offset.offset(1e-4 * ref.eigenvalues()[c]));
            double dot = 0;
            double truth = 0;
            for (int k = 0; k < dim; k++) {
                dot += got.components()[c * dim + k] * ref.components()[c * dim + k];
                truth += got.components()[c * dim + k] * axes[c][k];
            }
            assertThat(dot).as("component %d equals the reference's (same sign convention)", c).isGreaterThan(0.9999);
            assertThat(Math.abs(truth)).as("component %d finds the planted axis", c).isGreaterThan(0.99);
        }
        assertThat(ref.eigenvalues()[0]).as("planted variance 25").isCloseTo(25, org.assertj.core.data.Offset.offset(
                2.5));
    }

    @Test
    void theDensityTreeOnThisBackendEqualsTheReferenceTree() {
        Random rnd = new Random(SEED + 3);
        Points p = random(rnd, 600, 16, 6, 0.6);
        for (ClusterMetric metric : ClusterMetric.values()) {
            HdbscanParams params = new HdbscanParams(5, 15, metric, HdbscanParams.Selection.EOM);
            DensityTree ref = Hdbscan.reference().build(p, params);
            DensityTree got = new Hdbscan(ops).build(p, params);
            assertThat(ref.flatClusters()).as("the case has clusters").isGreaterThan(1);
            assertThat(ClusterAgreement.adjustedRandIndex(got.labels(), ref.labels())).as(metric.toString())
                    .isGreaterThanOrEqualTo(0.99);
        }
    }

    static void assertSpanning(SpanningTree t, int n, String what) {
        assertThat(t.edges()).as(what + ": n - 1 edges").isEqualTo(n - 1);
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = i;
        }
        int components = n;
        for (int e = 0; e < t.edges(); e++) {
            int a = find(parent, t.from()[e]);
            int b = find(parent, t.to()[e]);
            assertThat(a).as(what + ": edge %d closes a cycle", e).isNotEqualTo(b);
            parent[a] = b;
            components--;
        }
        assertThat(components).as(what + ": connected").isEqualTo(1);
    }

    private static int find(int[] parent, int x) {
        while (parent[x] != x) {
            x = parent[x];
        }
        return x;
    }

    private static double[][] orthonormal(Random rnd, int count, int dim) {
        double[][] out = new double[count][dim];
        for (int a = 0; a < count; a++) {
            for (int k = 0; k < dim; k++) {
                out[a][k] = rnd.nextGaussian();
            }
            for (int b = 0; b < a; b++) {
                double dot = 0;
                for (int k = 0; k < dim; k++) {
                    dot += out[a][k] * out[b][k];
                }
                for (int k = 0; k < dim; k++) {
                    out[a][k] -= dot * out[b][k];
                }
            }
            double norm = 0;
            for (int k = 0; k < dim; k++) {
                norm += out[a][k] * out[a][k];
            }
            for (int k = 0; k < dim; k++) {
                out[a][k] /= Math.sqrt(norm);
            }
        }
        return out;
    }
}
