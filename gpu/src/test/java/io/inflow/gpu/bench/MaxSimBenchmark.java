package io.inflow.gpu.bench;

import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.backend.cpu.reference.RetrievalReference;
import io.inflow.gpu.retrieval.RetrievalOps;
import io.inflow.gpu.retrieval.TokenQueries;
import io.inflow.gpu.retrieval.TokenSet;
import io.inflow.gpu.retrieval.TokenStorage;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * MaxSim rerank on the CPU: pairs/s of the reference ({@code RetrievalReference.maxSim}, one timed call on the first
 * 320 pairs) and the fast backend ({@code FastMaxSim}) for 64 queries x 32 tokens, 100 candidates each, documents of
 * 128 tokens, dim 128 and 384, in each token storage, after checking that both agree on those pairs. Next to the fast
 * path's pairs/s it prints the token bytes it reads per second (each pair counted as reading its whole stored
 * document once: 128 x bytes per token; query tokens not counted) against this machine's memory bandwidth measured in
 * the same run (the array-sum stream of {@link RetrievalBenchmark}), and the FLOP rate (2 x 32 x 128 x dim per pair)
 * against the cores' nominal FP32 peak ({@link CpuPeak}): with 32 query tokens per document value MaxSim is
 * compute-bound, so the FLOP share is the one that says how close the kernel is to its limit.
 *
 * <p>Candidates come from a pool of 1,000 documents (each is a candidate of about 6 queries, as popular documents
 * are in a real first stage); the fast path widens a document once for all its pairs.
 *
 * <p>Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec -Dbench.main=io.inflow.gpu.bench.MaxSimBenchmark
 * -Dbench.args="threads=2 seconds=1 reference=true"}.
 */
public final class MaxSimBenchmark {
    static final int QUERIES = 64;
    static final int QUERY_TOKENS = 32;
    static final int CANDIDATES = 100;
    static final int DOC_TOKENS = 128;
    static final int POOL = 1000;
    /** Pairs the reference scores in its one timed call (it runs about a thousand times slower). */
    static final int REFERENCE_PAIRS = 320;

    private MaxSimBenchmark() {
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
        double streamGbs = RetrievalBenchmark.streamBandwidth(threads);
        CpuPeak peak = CpuPeak.of(threads);
        System.out.printf(Locale.ROOT, "memory bandwidth (array-sum stream, %d threads): %.1f GB/s; %s%n", threads,
                streamGbs, peak.describe());
        System.out.printf(Locale.ROOT, "%d queries x %d tokens, %d candidates each (%d pairs), documents of %d tokens"
                + " from a pool of %d%n", QUERIES, QUERY_TOKENS, CANDIDATES, QUERIES * CANDIDATES, DOC_TOKENS, POOL);
        System.out.println("dim  storage  reference pairs/s  fast pairs/s  token GB/s  % of stream  GFLOP/s  % of peak");
        Random rnd = new Random(42);
        int[] pq = new int[QUERIES * CANDIDATES];
        int[] pd = new int[QUERIES * CANDIDATES];
        for (int q = 0; q < QUERIES; q++) {
            int[] pool = rnd.ints(0, POOL).distinct().limit(CANDIDATES).toArray();
            for (int c = 0; c < CANDIDATES; c++) {
                pq[q * CANDIDATES + c] = q;
                pd[q * CANDIDATES + c] = pool[c];
            }
        }
        int[] refQ = Arrays.copyOf(pq, REFERENCE_PAIRS);
        int[] refD = Arrays.copyOf(pd, REFERENCE_PAIRS);
        RetrievalOps ref = new RetrievalReference();
        try (FastCpuBackend fast = new FastCpuBackend(null, threads)) {
            for (int dim : new int[] {128, 384}) {
                TokenQueries queries = queries(rnd, dim);
                float[] docValues = unitRows(rnd, POOL * DOC_TOKENS, dim);
                for (TokenStorage storage : TokenStorage.values()) {
                    TokenSet.Builder b = new TokenSet.Builder(storage, dim);
                    for (int d = 0; d < POOL; d++) {
                        b.add(TokenSet.encode(storage, docValues, d * DOC_TOKENS * dim, DOC_TOKENS, dim));
                    }
                    TokenSet docs = b.build();
                    float[] fastRef = fast.retrieval().maxSim(queries, docs, refQ, refD);
                    String refRate = "-";
                    if (reference) {
                        long t0 = System.nanoTime();
                        float[] want = ref.maxSim(queries, docs, refQ, refD);
                        refRate = String.format(Locale.ROOT, "%.0f", REFERENCE_PAIRS / ((System.nanoTime() - t0) / 1e9));
                        verify(want, fastRef, storage, dim);
                    }
                    double s = BenchTiming.secondsPerCall(() -> fast.retrieval().maxSim(queries, docs, pq, pd), seconds);
                    double pairsPerS = pq.length / s;
                    double gbs = pairsPerS * DOC_TOKENS * (double) storage.bytesPerToken(dim) / 1e9;
                    double gflops = pairsPerS * 2.0 * QUERY_TOKENS * DOC_TOKENS * dim / 1e9;
                    System.out.printf(Locale.ROOT, "%-4d %-8s %-18s %-13.0f %-11.2f %-12.0f %-8.1f %.0f%%%n", dim,
                            storage, refRate, pairsPerS, gbs, 100 * gbs / streamGbs, gflops,
                            100 * gflops / peak.gflops());
                }
            }
        }
    }

    /** Fast and reference scores must agree to 1e-4 of the score's size (sums of 32 cosines), else the run stops. */
    private static void verify(float[] want, float[] got, TokenStorage storage, int dim) {
        for (int p = 0; p < want.length; p++) {
            if (Math.abs(want[p] - got[p]) > 1e-4 * Math.max(1, Math.abs(want[p]))) {
                throw new IllegalStateException(storage + " dim " + dim + " pair " + p + ": fast " + got[p]
                        + " vs reference " + want[p]);
            }
        }
    }

    private static TokenQueries queries(Random rnd, int dim) {
        int[] offsets = new int[QUERIES + 1];
        for (int q = 0; q < QUERIES; q++) {
            offsets[q + 1] = offsets[q] + QUERY_TOKENS;
        }
        return new TokenQueries(unitRows(rnd, QUERIES * QUERY_TOKENS, dim), offsets, dim);
    }

    /** {@code rows} unit vectors of uniform random values, back to back (ColBERT normalises its token vectors). */
    private static float[] unitRows(Random rnd, int rows, int dim) {
        float[] out = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            double sq = 0;
            for (int j = 0; j < dim; j++) {
                float v = rnd.nextFloat() - 0.5f;
                out[r * dim + j] = v;
                sq += (double) v * v;
            }
            float inv = (float) (1 / Math.sqrt(sq));
            for (int j = 0; j < dim; j++) {
                out[r * dim + j] *= inv;
            }
        }
        return out;
    }
}
