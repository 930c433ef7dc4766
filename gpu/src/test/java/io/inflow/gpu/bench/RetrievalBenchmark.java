package io.inflow.gpu.bench;

import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.backend.cpu.fast.ParallelRunner;
import io.inflow.gpu.backend.cpu.reference.RetrievalReference;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.RetrievalOps;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact top-k on the CPU: queries/s of the reference ({@code RetrievalReference}) and the fast backend
 * ({@code FastRetrieval}) for 10k, 100k (and with {@code rows=} 1M) x 384 documents in float32, float16 and int8 (inner
 * product), batch 1, 64 and 1024, k 10 and 1000, after checking that both return the same top-10 ids. Next to the fast path's queries/s it prints the
 * document bytes it read per second (each search reads every value once per call: rows x dim x bytes per value; the
 * 17 bytes of per-row metadata are not counted) and this machine's memory bandwidth measured in the same run by a
 * vectorised array-sum stream over 256 MiB on the same number of threads.
 *
 * <p>Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec -Dbench.main=io.inflow.gpu.bench.RetrievalBenchmark
 * -Dbench.args="threads=2 seconds=1 reference=true rows=10000,100000,1000000 batches=1,64,1024 ks=10,1000
 * storages=float32,float16,int8"} (1M float32 rows need {@code -Dbench.jvm=-Xmx8g}).
 */
public final class RetrievalBenchmark {
    private static final int DIM = 384;

    private RetrievalBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new TreeMap<>();
        for (String a : args) {
            String[] kv = a.split("=", 2);
            opts.put(kv[0], kv.length > 1 ? kv[1] : "true");
        }
        int threads = Integer.parseInt(opts.getOrDefault("threads", "2"));
        double seconds = Double.parseDouble(opts.getOrDefault("seconds", "1"));
        boolean reference = Boolean.parseBoolean(opts.getOrDefault("reference", "true"));
        int[] rowsList = ints(opts.getOrDefault("rows", "10000,100000"));
        int[] batches = ints(opts.getOrDefault("batches", "1,64,1024"));
        int[] ks = ints(opts.getOrDefault("ks", "10,1000"));
        List<Storage> storages = new ArrayList<>();
        for (String st : opts.getOrDefault("storages", "float32,float16,int8").split(",")) {
            storages.add(Storage.parse(st.trim()));
        }
        double streamGbs = streamBandwidth(threads);
        System.out.printf(Locale.ROOT, "memory bandwidth (array-sum stream, %d threads): %.1f GB/s%n", threads,
                streamGbs);
        System.out.println("rows     storage  batch  k     reference q/s  fast q/s   ms/batch  fast doc GB/s  % of stream");
        try (FastCpuBackend fast = new FastCpuBackend(null, threads)) {
            RetrievalOps ref = new RetrievalReference();
            for (int rows : rowsList) {
                for (Storage storage : storages) {
                    List<VectorChunk> chunks = chunks(storage, rows, new Random(rows));
                    long docBytes = (long) rows * DIM * storage.bytesPerValue();
                    for (int batch : batches) {
                        float[] qs = flatten(gaussianRows(new Random(batch * 31L), batch));
                        for (int k : ks) {
                            SearchRequest r = new SearchRequest(qs, batch, DIM, k, Metric.INNER_PRODUCT, null);
                            verify(ref, fast.retrieval(), chunks, r);
                            double fastS = BenchTiming.secondsPerCall(() -> fast.retrieval().search(chunks, r),
                                    seconds);
                            String refQps = "-";
                            // the reference scores in double with plain loops: timed where one call takes < ~1 min
                            if (reference && (long) rows * batch <= 10_000_000L) {
                                ref.search(chunks, r);                 // warm-up (the reference is slow: one timed call)
                                long t0 = System.nanoTime();
                                ref.search(chunks, r);
                                refQps = String.format(Locale.ROOT, "%.1f", batch / ((System.nanoTime() - t0) / 1e9));
                            }
                            double gbs = docBytes / fastS / 1e9;
                            System.out.printf(Locale.ROOT, "%-8d %-8s %-6d %-5d %-14s %-10.1f %-9.2f %-14.2f %.0f%%%n",
                                    rows, storage, batch, k, refQps, batch / fastS, fastS * 1e3, gbs,
                                    100 * gbs / streamGbs);
                        }
                    }
                }
            }
        }
    }

    private static int[] ints(String csv) {
        return java.util.Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }

    /**
     * Both backends' top-10 ids must agree (as sets: near-ties may swap places) for the batch's first 2 queries (the
     * reference is slow at 1M rows), else the run stops.
     */
    private static void verify(RetrievalOps ref, RetrievalOps fast, List<VectorChunk> chunks, SearchRequest r) {
        int n = Math.min(2, r.count());
        SearchRequest ten = new SearchRequest(java.util.Arrays.copyOf(r.queries(), n * r.dim()), n, r.dim(), 10,
                r.metric(), null);
        TopK a = ref.search(chunks, ten);
        TopK b = fast.search(chunks, ten);
        for (int q = 0; q < ten.count(); q++) {
            Set<Long> ids = new HashSet<>();
            for (int i = 0; i < a.hits(q); i++) {
                ids.add(((long) a.chunk(q, i) << 32) | a.row(q, i));
            }
            for (int i = 0; i < b.hits(q); i++) {
                if (!ids.contains(((long) b.chunk(q, i) << 32) | b.row(q, i))) {
                    throw new IllegalStateException("fast and reference top-10 differ for query " + q);
                }
            }
        }
    }

    private static float[][] gaussianRows(Random rnd, int rows) {
        float[][] out = new float[rows][DIM];
        for (float[] row : out) {
            for (int j = 0; j < DIM; j++) {
                row[j] = rnd.nextFloat() - 0.5f;
            }
        }
        return out;
    }

    private static float[] flatten(float[][] rows) {
        float[] out = new float[rows.length * DIM];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * DIM, DIM);
        }
        return out;
    }

    /** {@code rows} uniform rows generated straight into chunks (no float32 copy of the whole set: 1M rows fit). */
    private static List<VectorChunk> chunks(Storage storage, int rows, Random rnd) {
        List<VectorChunk> out = new ArrayList<>();
        VectorChunk c = null;
        float[] row = new float[DIM];
        for (int i = 0; i < rows; i++) {
            if (c == null || c.count() == c.capacity()) {
                c = new VectorChunk(storage, DIM, VectorChunk.DEFAULT_CAPACITY);
                out.add(c);
            }
            for (int j = 0; j < DIM; j++) {
                row[j] = rnd.nextFloat() - 0.5f;
            }
            c.append(row, 0, i, VectorChunk.NO_FILTER_CODE);
        }
        return out;
    }

    /** GB/s of summing a 256 MiB float array, split in contiguous parts over {@code threads} threads (best of 5). */
    static double streamBandwidth(int threads) throws Exception {
        float[] big = new float[64 << 20];
        java.util.Arrays.fill(big, 1f);
        double[] sink = new double[threads];
        for (int w = 0; w < 20; w++) {                  // compile sumRange before timing
            sink[0] += sumRange(big, 0, 1 << 16);
        }
        try (ParallelRunner runner = new ParallelRunner(threads)) {
            double sec = Double.MAX_VALUE;
            for (int run = 0; run < 5; run++) {                 // best of 5: the machine may be shared
                sec = Math.min(sec, BenchTiming.secondsPerCall(() -> runner.parallelFor(threads, t -> {
                    int from = (int) ((long) big.length * t / threads);
                    int to = (int) ((long) big.length * (t + 1) / threads);
                    sink[t] += sumRange(big, from, to);
                }), 0.2));
            }
            if (sink[0] == 42) {
                System.out.println();                   // keeps the sums alive
            }
            return 4.0 * big.length / sec / 1e9;
        }
    }

    /** Sum of {@code a[from, to)} with four independent vector accumulators (to - from a multiple of 4 lanes). */
    private static float sumRange(float[] a, int from, int to) {
        VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
        int step = 4 * s.length();
        FloatVector x0 = FloatVector.zero(s);
        FloatVector x1 = x0;
        FloatVector x2 = x0;
        FloatVector x3 = x0;
        int i = from;
        for (; i + step <= to; i += step) {
            x0 = x0.add(FloatVector.fromArray(s, a, i));
            x1 = x1.add(FloatVector.fromArray(s, a, i + s.length()));
            x2 = x2.add(FloatVector.fromArray(s, a, i + 2 * s.length()));
            x3 = x3.add(FloatVector.fromArray(s, a, i + 3 * s.length()));
        }
        float r = x0.add(x1).add(x2).add(x3).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; i < to; i++) {
            r += a[i];
        }
        return r;
    }
}
