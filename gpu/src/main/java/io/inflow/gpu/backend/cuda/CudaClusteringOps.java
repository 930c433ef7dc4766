package io.inflow.gpu.backend.cuda;

import io.inflow.gpu.backend.cuda.kernels.ClusterKernel;
import io.inflow.gpu.cluster.ClusterMetric;
import io.inflow.gpu.cluster.ClusteringOps;
import io.inflow.gpu.cluster.CoreDistances;
import io.inflow.gpu.cluster.Pca;
import io.inflow.gpu.cluster.Points;
import io.inflow.gpu.cluster.SpanningTree;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The clustering family on CUDA. Linkage, condensing and selection stay on the host (shared by every backend).
 * <ul>
 *   <li><b>Core distances</b>: the points searched against themselves with the retrieval family's exact top-k
 *       ({@code retrieval.cu}, the same kernels the index uses), {@link #CANDIDATE_MARGIN} extra candidates per
 *       point, whose distances are then recomputed in double on the host (the kernel's dot-product form rounds
 *       badly near 0), as {@code FastClustering} does. Queries go in batches that bound the candidate buffers.</li>
 *   <li><b>Spanning tree</b>: Prim on the complete mutual-reachability graph, one {@code prim_step_f32} launch per
 *       edge ({@code cluster.cu}); the device keeps the tree, the best edges and the next point, so the host only
 *       queues launches and reads the {@code n - 1} edges at the end. Edge weights are recomputed in double.</li>
 *   <li><b>PCA</b>: {@code covariance_f32} (double accumulation) then {@code jacobi_eigen_f64} on the device; the
 *       host sorts and signs the eigenpairs ({@link Pca#fromEigenpairs}).</li>
 * </ul>
 *
 * <p>{@code DensityTree t = new Hdbscan(cudaBackend.clustering()).build(points, params);}
 */
final class CudaClusteringOps implements ClusteringOps {
    /** Neighbours searched beyond {@code minSamples} (see {@code FastClustering}). */
    static final int CANDIDATE_MARGIN = 8;
    /** Rows per retrieval chunk. */
    static final int CHUNK_ROWS = 4096;
    /** Candidate cells (queries x slots) one search may use: 16 Mi cells, about 320 MiB of device buffers. */
    static final long MAX_CANDIDATE_CELLS = 1L << 24;
    /** Jacobi sweeps before giving up (the reference's bound). */
    static final int MAX_SWEEPS = 100;

    private final CudaMemory memory;
    private final CudaContext context;
    private final KernelLauncher launcher;
    private final CudaRetrievalOps retrieval;

    CudaClusteringOps(CudaMemory memory, CudaContext context, KernelLauncher launcher, CudaRetrievalOps retrieval) {
        this.memory = memory;
        this.context = context;
        this.launcher = launcher;
        this.retrieval = retrieval;
    }

    @Override
    public double[] coreDistances(Points points, int minSamples, ClusterMetric metric) {
        ClusteringOps.check(points, minSamples);
        int n = points.n();
        int d = points.dim();
        List<VectorChunk> chunks = CoreDistances.asChunks(points, CHUNK_ROWS);
        int k = Math.min(n, minSamples + CANDIDATE_MARGIN);
        var plan = io.inflow.gpu.backend.cuda.kernels.RetrievalKernel.plan(d, k);
        long slots = 0;
        for (VectorChunk c : chunks) {
            slots += (long) plan.slices(c.count()) * plan.kOut();
        }
        int batch = (int) Math.max(1, Math.min(n, MAX_CANDIDATE_CELLS / Math.max(1, slots)));
        Metric m = metric == ClusterMetric.L2 ? Metric.L2 : Metric.COSINE;
        double[] core = new double[n];
        try {
            for (int q0 = 0; q0 < n; q0 += batch) {
                int count = Math.min(batch, n - q0);
                float[] queries = Arrays.copyOfRange(points.data(), q0 * d, (q0 + count) * d);
                TopK top = retrieval.search(chunks, new SearchRequest(queries, count, d, k, m, null));
                int base = q0;
                IntStream.range(0, count).parallel().forEach(q -> {
                    int self = base + q;
                    int hits = top.hits(q);
                    double[] dist = new double[hits];
                    for (int i = 0; i < hits; i++) {
                        int j = top.chunk(q, i) * CHUNK_ROWS + top.row(q, i);
                        dist[i] = j == self ? 0 : metric.distance(points, self, j);
                    }
                    Arrays.sort(dist);
                    core[self] = dist[minSamples - 1];
                });
            }
        } finally {
            retrieval.forget(chunks);
        }
        return core;
    }

    @Override
    public SpanningTree spanningTree(Points points, double[] core, ClusterMetric metric) {
        int n = points.n();
        int d = points.dim();
        if (n <= 1) {
            return new SpanningTree(new int[0], new int[0], new double[0]);
        }
        ClusterKernel.PrimPlan plan = ClusterKernel.primPlan(n, d);
        float[] norms = new float[n];
        float[] coreKey = new float[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int k = 0; k < d; k++) {
                double v = points.data()[i * d + k];
                s += v * v;
            }
            norms[i] = (float) Math.sqrt(s);
            coreKey[i] = (float) (metric == ClusterMetric.L2 ? core[i] * core[i] : core[i]);
        }
        float[] best = new float[n];
        Arrays.fill(best, Float.POSITIVE_INFINITY);
        int[] inTree = new int[n];
        inTree[0] = 1;
        int metricCode = metric == ClusterMetric.L2 ? 0 : 1;
        List<Tensor> temporaries = new ArrayList<>();
        try {
            Tensor x = keep(temporaries, memory.upload(exact(points.data(), n * d), n * d));
            Tensor dNorms = keep(temporaries, memory.upload(norms, n));
            Tensor dCore = keep(temporaries, memory.upload(coreKey, n));
            Tensor dInTree = keep(temporaries, memory.upload(inTree, n));
            Tensor dBest = keep(temporaries, memory.upload(best, n));
            Tensor dBestFrom = keep(temporaries, memory.upload(new int[n], n));
            Tensor blockBest = keep(temporaries, memory.allocate(DType.FLOAT32, plan.blocks()));
            Tensor blockArg = keep(temporaries, memory.allocate(DType.INT32, plan.blocks()));
            Tensor ticket = keep(temporaries, memory.upload(new int[1], 1));
            Tensor state = keep(temporaries, memory.upload(new int[1], 1));   // Prim starts at point 0, as the reference
            Tensor edgeFrom = keep(temporaries, memory.allocate(DType.INT32, n - 1));
            Tensor edgeTo = keep(temporaries, memory.allocate(DType.INT32, n - 1));
            context.run(() -> {
                for (int step = 0; step < n - 1; step++) {
                    ClusterKernel.primStep(launcher, plan, x, dNorms, dCore, metricCode, dInTree, dBest, dBestFrom,
                            blockBest, blockArg, ticket, state, edgeFrom, edgeTo, step);
                }
            });
            int[] from = memory.downloadInts(edgeFrom);
            int[] to = memory.downloadInts(edgeTo);
            double[] weight = new double[n - 1];
            IntStream.range(0, n - 1).parallel().forEach(e -> weight[e] = CoreDistances.mutualReachability(core,
                    from[e], to[e], metric.distance(points, from[e], to[e])));
            return SpanningTree.sorted(from, to, weight);
        } finally {
            temporaries.forEach(Tensor::close);
        }
    }

    @Override
    public Pca principalComponents(Points points, int components) {
        int n = points.n();
        int d = points.dim();
        if (components < 1 || components > d) {
            throw new IllegalArgumentException("PCA components must be between 1 and the dimension " + d + " (was "
                    + components + ")");
        }
        double[] mean = Pca.mean(points);
        List<Tensor> temporaries = new ArrayList<>();
        try {
            Tensor x = keep(temporaries, memory.upload(exact(points.data(), Math.max(1, n * d)), Math.max(1, n * d)));
            Tensor dMean = keep(temporaries, memory.upload(CudaRetrievalOps.doubleBits(mean), 2 * d));
            Tensor cov = keep(temporaries, memory.allocate(DType.INT32, 2 * d * d));   // doubles as raw bits
            Tensor vectors = keep(temporaries, memory.allocate(DType.INT32, 2 * d * d));
            Tensor sweeps = keep(temporaries, memory.allocate(DType.INT32, 1));
            context.run(() -> {
                ClusterKernel.covariance(launcher, x, dMean, n, d, cov);
                ClusterKernel.jacobiEigen(launcher, cov, vectors, d, MAX_SWEEPS, sweeps);
            });
            double[] diagonalised = fromBits(memory.downloadInts(cov));
            double[] v = fromBits(memory.downloadInts(vectors));
            return Pca.fromEigenpairs(mean, diagonalised, v, components);
        } finally {
            temporaries.forEach(Tensor::close);
        }
    }

    /** {@code data} cut or zero-padded to {@code length} values (the upload's shape). */
    private static float[] exact(float[] data, int length) {
        return data.length == length ? data : Arrays.copyOf(data, length);
    }

    private static double[] fromBits(int[] bits) {
        double[] out = new double[bits.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = Double.longBitsToDouble((bits[2 * i] & 0xffffffffL) | ((long) bits[2 * i + 1] << 32));
        }
        return out;
    }

    private static Tensor keep(List<Tensor> list, Tensor t) {
        list.add(t);
        return t;
    }

    @Override
    public String toString() {
        return "cuda-clustering";
    }
}
