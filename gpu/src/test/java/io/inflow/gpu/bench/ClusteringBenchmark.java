package io.inflow.gpu.bench;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.backend.cuda.CudaAvailability;
import io.inflow.gpu.backend.cuda.CudaBackendConfig;
import io.inflow.gpu.cluster.ClusterAgreement;
import io.inflow.gpu.cluster.ClusterMetric;
import io.inflow.gpu.cluster.DensityTree;
import io.inflow.gpu.cluster.ElkiHdbscan;
import io.inflow.gpu.cluster.Hdbscan;
import io.inflow.gpu.cluster.HdbscanParams;
import io.inflow.gpu.cluster.Pca;
import io.inflow.gpu.cluster.Points;
import io.inflow.gpu.cluster.TribuoHdbscan;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

/**
 * Density-tree build time at several sizes, full vectors and PCA-reduced, ours (fast CPU backend) against Tribuo's
 * and ELKI's HDBSCAN* in the same run, with ARI between them (the same flat clusters) and the stages apart: kNN,
 * minimum spanning tree, condensed tree. Next to the spanning tree it prints the bytes it streamed per second against
 * this machine's memory bandwidth measured in the same run (Prim's algorithm reads every remaining point once per
 * step: {@code n^2 / 2} rows in all) and the FLOP rate against the nominal FP32 peak.
 *
 * <p>Points: {@code vectors=<file>} of little-endian float32 rows of 384 values (e2e's {@code EmbedWordNet} writes the
 * MiniLM embeddings of every WordNet noun gloss), rows spread evenly over the file; without it, Gaussian blobs.
 *
 * <p>Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec
 * -Dbench.main=io.inflow.gpu.bench.ClusteringBenchmark -Dbench.args="sizes=10000,50000 pca=5
 * vectors=/tmp/wordnet-minilm.f32 peers=tribuo,elki peer-max=50000 threads=2"} ({@code full=false}: PCA-reduced
 * points only; {@code peers=}: ours only; {@code gpu=true}: the same trees on the CUDA backend too, where a device
 * is found, against our CPU).
 */
public final class ClusteringBenchmark {

    private ClusteringBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int[] sizes = {10_000};
        int pca = 5;
        int threads = 2;
        int peerMax = 50_000;
        String peers = "tribuo,elki";
        Path vectors = null;
        int minSamples = 5;
        int minClusterSize = 25;
        boolean withFull = true;
        boolean gpu = false;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "sizes" -> sizes = Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "pca" -> pca = Integer.parseInt(kv[1]);
                case "threads" -> threads = Integer.parseInt(kv[1]);
                case "peer-max" -> peerMax = Integer.parseInt(kv[1]);
                case "peers" -> peers = kv[1];
                case "vectors" -> vectors = Path.of(kv[1]);
                case "min-samples" -> minSamples = Integer.parseInt(kv[1]);
                case "min-cluster-size" -> minClusterSize = Integer.parseInt(kv[1]);
                case "full" -> withFull = Boolean.parseBoolean(kv[1]);
                case "gpu" -> gpu = Boolean.parseBoolean(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a + " (sizes=, pca=, threads=,"
                        + " peer-max=, peers=, vectors=, min-samples=, min-cluster-size=, full=, gpu=)");
            }
        }
        boolean fullVectors = withFull;
        HdbscanParams params = new HdbscanParams(minSamples, minClusterSize, ClusterMetric.L2,
                HdbscanParams.Selection.EOM);
        CpuPeak peak = CpuPeak.of(threads);
        double bandwidth = RetrievalBenchmark.streamBandwidth(threads);
        System.out.printf("Density tree benchmark: %s, %d threads; %s; memory stream %.1f GB/s; points: %s;"
                + " minSamples %d, minClusterSize %d, L2, EOM%n", Runtime.version(), threads, peak.describe(),
                bandwidth, vectors == null ? "Gaussian blobs" : vectors, minSamples, minClusterSize);
        Backend cuda = null;
        if (gpu) {
            CudaAvailability.Result probe = CudaAvailability.probe();
            if (probe.available()) {
                cuda = Backends.cuda(CudaBackendConfig.fromSystemProperties());
                System.out.println("GPU: " + cuda.name());
            } else {
                System.out.println("GPU rows skipped: no CUDA device: " + probe.reason());
            }
        }
        try (FastCpuBackend backend = new FastCpuBackend(null, threads); Backend gpuBackend = cuda) {
            Hdbscan fast = new Hdbscan(backend.clustering());
            for (int n : sizes) {
                Points full = vectors != null ? load(vectors, n) : blobs(n, 384, 40, 17);
                boolean fullToo = fullVectors;
                long t0 = System.nanoTime();
                Pca p = backend.clustering().principalComponents(full, pca);
                Points reduced = p.project(full);
                double pcaMs = (System.nanoTime() - t0) / 1e6;
                for (Points pts : fullToo ? new Points[] {full, reduced} : new Points[] {reduced}) {
                    String shape = String.format("n=%d d=%d%s", n, pts.dim(), pts == reduced
                            ? String.format(" (PCA from 384 in %.0f ms)", pcaMs) : "");
                    long s = System.nanoTime();
                    DensityTree ours = fast.build(pts, params);
                    double oursS = (System.nanoTime() - s) / 1e9;
                    double mstS = ours.times().mstNanos() / 1e9;
                    double streamed = (double) n * n / 2 * pts.dim() * 4;
                    double flops = (double) n * n / 2 * pts.dim() * 3;
                    System.out.printf("%s: ours %.2f s (%s; %d clusters, %.1f%% noise); MST streamed %.1f GB/s"
                            + " (%.0f%% of the measured stream), %.1f GFLOP/s (%.1f%% of nominal peak)%n", shape,
                            oursS, ours.times(), ours.flatClusters(), 100 * ours.noiseShare(), streamed / mstS / 1e9,
                            100 * streamed / mstS / 1e9 / bandwidth, flops / mstS / 1e9,
                            100 * flops / mstS / 1e9 / peak.gflops());
                    if (gpuBackend != null) {
                        gpuRow(gpuBackend, pts, params, ours, oursS, streamed);
                    }
                    if (n > peerMax) {
                        System.out.printf("  peers skipped above peer-max=%d points%n", peerMax);
                        continue;
                    }
                    double best = Double.POSITIVE_INFINITY;
                    for (String peer : peers.split(",")) {
                        if (peer.isBlank()) {
                            continue;
                        }
                        long ps = System.nanoTime();
                        int[] labels = switch (peer) {
                            case "tribuo" -> TribuoHdbscan.labels(pts, params, threads);
                            case "elki" -> ElkiHdbscan.labels(pts, params);
                            default -> throw new IllegalArgumentException("unknown peer " + peer);
                        };
                        double peerS = (System.nanoTime() - ps) / 1e9;
                        best = Math.min(best, peerS);
                        System.out.printf("  %-6s %.2f s, ARI ours vs %s %.4f%n", peer, peerS, peer,
                                ClusterAgreement.adjustedRandIndex(ours.labels(), labels));
                    }
                    if (best < Double.POSITIVE_INFINITY) {
                        System.out.printf("  => ours %.1fx faster than the faster peer (goal at 50k: >= 3x)%n",
                                best / oursS);
                    }
                }
            }
        }
    }

    /**
     * The same tree on the CUDA backend: time, stages, agreement with our CPU tree, and the speed-up over our CPU
     * (cuML reports 11-27x over CPU hdbscan). The first build is a warm-up (module loading, pool).
     */
    private static void gpuRow(Backend gpu, Points pts, HdbscanParams params, DensityTree cpu, double cpuS,
                               double streamed) {
        Hdbscan tree = new Hdbscan(gpu.clustering());
        tree.build(new Points(Arrays.copyOf(pts.data(), Math.min(pts.n(), 512) * pts.dim()), Math.min(pts.n(), 512),
                pts.dim()), params);
        long s = System.nanoTime();
        DensityTree g = tree.build(pts, params);
        double gS = (System.nanoTime() - s) / 1e9;
        long ps = System.nanoTime();
        gpu.clustering().principalComponents(pts, Math.min(5, pts.dim()));
        double pcaMs = (System.nanoTime() - ps) / 1e6;
        System.out.printf("  gpu    %.2f s (%s), MST streamed %.0f GB/s; PCA-5 %.0f ms; ARI gpu vs ours-cpu %.4f;"
                + " gpu %.1fx our CPU%n", gS, g.times(), streamed / (g.times().mstNanos() / 1e9) / 1e9, pcaMs,
                ClusterAgreement.adjustedRandIndex(g.labels(), cpu.labels()), cpuS / gS);
    }

    /** {@code n} rows spread evenly over a float32 file of 384-value rows. */
    static Points load(Path file, int n) throws IOException {
        int dim = 384;
        long rows = Files.size(file) / (4L * dim);
        if (n > rows) {
            throw new IllegalArgumentException(file + " holds " + rows + " rows, fewer than " + n);
        }
        float[] data = new float[n * dim];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer row = ByteBuffer.allocate(4 * dim).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                long r = i * rows / n;
                row.clear();
                ch.read(row, r * 4 * dim);
                row.flip();
                row.asFloatBuffer().get(data, i * dim, dim);
            }
        }
        return new Points(data, n, dim);
    }

    static Points blobs(int n, int dim, int blobs, long seed) {
        Random rnd = new Random(seed);
        float[][] c = new float[blobs][dim];
        for (float[] v : c) {
            for (int k = 0; k < dim; k++) {
                v[k] = (float) rnd.nextGaussian();
            }
        }
        float[] data = new float[n * dim];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < dim; k++) {
                data[i * dim + k] = (float) (c[i % blobs][k] + 0.3 * rnd.nextGaussian());
            }
        }
        return new Points(data, n, dim);
    }
}
