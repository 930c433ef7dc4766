package io.inflow.gpu.bench;

import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;

import org.apache.lucene.document.Document;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.store.ByteBuffersDirectory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;

/**
 * Inflow's exact top-k next to Lucene 9.12 in the same run, on the same unit vectors (inner product = cosine):
 * Lucene's exact search (every vector scored with its Panama-vectorised dot product, a top-k heap: what
 * {@code KnnFloatVectorQuery} does when it searches exactly) and its HNSW search (M 16, beam 100, the defaults) at
 * several candidate counts, with HNSW's recall@10 against the exact answer, so the speeds compare at matched recall.
 * Lucene answers one query at a time; Inflow is shown at batch 1, 64 and 1024. Index build time is printed too.
 * {@code k=1000} compares at k 1000 (HNSW with 1000 and 2000 candidates); {@code vectors=file} uses real embeddings
 * (raw float32 rows, e.g. WordNet glosses through MiniLM written by e2e-tests' {@code EmbedWordNet}) instead of
 * Gaussian ones, on which HNSW's recall is far better.
 *
 * <p>Run: {@code mvn -B -q -pl gpu -am -Pbench test-compile exec:exec
 * -Dbench.main=io.inflow.gpu.bench.LuceneRetrievalBenchmark -Dbench.args="rows=10000,100000 queries=200"}.
 */
public final class LuceneRetrievalBenchmark {

    private static final int DIM = 384;
    private static final String FIELD = "v";

    private LuceneRetrievalBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String rowsArg = "10000,100000";
        int queries = 200;
        int threads = 2;
        int k = 10;
        String vectors = null;
        int hnswMaxRows = 200_000;
        double augment = 0;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "rows" -> rowsArg = kv[1];
                case "queries" -> queries = Integer.parseInt(kv[1]);
                case "threads" -> threads = Integer.parseInt(kv[1]);
                case "k" -> k = Integer.parseInt(kv[1]);
                case "vectors" -> vectors = kv[1];
                case "hnsw-max-rows" -> hnswMaxRows = Integer.parseInt(kv[1]);
                case "augment" -> augment = Double.parseDouble(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a
                        + " (rows=, queries=, threads=, k=, vectors=, hnsw-max-rows=, augment=)");
            }
        }
        float[][] real = vectors == null ? null : readVectors(java.nio.file.Path.of(vectors));
        System.out.printf(Locale.ROOT, "exact and HNSW top-%d over %s of %d values, %d queries;"
                + " Inflow fast CPU on %d threads, Lucene %s single-threaded per query%n", k,
                real == null ? "unit Gaussian vectors" : real.length + " real embeddings from " + vectors, DIM,
                queries, threads, org.apache.lucene.util.Version.LATEST);
        System.out.printf(Locale.ROOT, "rows     engine                          recall@%-4d q/s%n", k);
        for (String r : rowsArg.split(",")) {
            int rows = Integer.parseInt(r.trim());
            if (real != null && augment == 0 && rows + queries > real.length) {
                System.out.printf(Locale.ROOT, "%-8d skipped: the file holds %d vectors, %d + %d queries needed%n",
                        rows, real.length, rows, queries);
                continue;
            }
            run(rows, queries, threads, k, real, rows <= hnswMaxRows, augment);
        }
    }

    /**
     * Raw little-endian float32 rows of {@value #DIM} values (unit length; e.g. written by e2e-tests'
     * {@code EmbedWordNet}). The last rows become the queries, held out from the documents.
     */
    private static float[][] readVectors(java.nio.file.Path file) throws java.io.IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(file))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int n = b.remaining() / (4 * DIM);
        float[][] out = new float[n][DIM];
        for (float[] row : out) {
            b.asFloatBuffer().get(row);
            b.position(b.position() + 4 * DIM);
        }
        return out;
    }

    private static void run(int rows, int queryCount, int threads, int k, float[][] real, boolean hnsw,
            double augment) throws Exception {
        Random rnd = new Random(rows);
        float[][] docs = new float[rows][];
        int pool = real == null ? 0 : real.length - queryCount;   // the last rows are the held-out queries
        for (int i = 0; i < rows; i++) {
            if (real == null) {
                docs[i] = unit(rnd);
            } else if (i < pool) {
                docs[i] = real[i];
            } else {
                // more rows than the file holds (augment=sigma): a real vector plus Gaussian noise, renormalised
                docs[i] = perturbed(real[i % pool], augment, rnd);
            }
        }
        if (real != null && rows > pool) {
            System.out.printf(Locale.ROOT, "%-8d %d real rows, %d more as real + N(0, %.3f) noise per value%n", rows,
                    pool, rows - pool, augment);
        }
        float[][] queries = new float[queryCount][];
        for (int i = 0; i < queryCount; i++) {
            queries[i] = real == null ? unit(rnd) : real[real.length - 1 - i];
        }

        // Inflow: float32 chunks, exact
        List<VectorChunk> chunks = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            if (i % 4096 == 0) {
                chunks.add(new VectorChunk(Storage.FLOAT32, DIM, 4096));
            }
            chunks.get(chunks.size() - 1).append(docs[i], 0, i, VectorChunk.NO_FILTER_CODE);
        }
        List<Set<Integer>> truth = new ArrayList<>();
        try (FastCpuBackend fast = new FastCpuBackend(null, threads)) {
            for (float[] q : queries) {
                TopK top = fast.retrieval().search(chunks, new SearchRequest(q, 1, DIM, k, Metric.INNER_PRODUCT,
                        null));
                Set<Integer> ids = new HashSet<>();
                for (int i = 0; i < top.hits(0); i++) {
                    ids.add(top.chunk(0, i) * 4096 + top.row(0, i));
                }
                truth.add(ids);
            }
            for (int batch : new int[] {1, 64, 1024}) {
                long t0 = System.nanoTime();
                int done = 0;
                while (done < queryCount) {
                    int n = Math.min(batch, queryCount - done);
                    float[] flat = new float[n * DIM];
                    for (int i = 0; i < n; i++) {
                        System.arraycopy(queries[done + i], 0, flat, i * DIM, DIM);
                    }
                    fast.retrieval().search(chunks, new SearchRequest(flat, n, DIM, k, Metric.INNER_PRODUCT, null));
                    done += n;
                }
                double qps = queryCount / ((System.nanoTime() - t0) / 1e9);
                System.out.printf(Locale.ROOT, "%-8d %-31s %9.3f %8.1f%n", rows, "inflow exact, batch " + Math.min(batch, queryCount), 1.0,
                        qps);
            }
        }

        if (!hnsw) {
            // no index: Lucene's exact search is its Panama dot product over every vector and a heap; run it on the
            // arrays (an HNSW build of this many rows takes longer than the run: see hnsw-max-rows)
            long t0 = System.nanoTime();
            double recall = 0;
            for (int qi = 0; qi < queryCount; qi++) {
                recall += overlap(exactArrays(docs, queries[qi], k), truth.get(qi));
            }
            System.out.printf(Locale.ROOT, "%-8d %-31s %9.3f %8.1f%n", rows, "lucene exact (VectorUtil, no index)",
                    recall / queryCount, queryCount / ((System.nanoTime() - t0) / 1e9));
            System.out.printf(Locale.ROOT, "%-8d lucene HNSW skipped: %d rows > hnsw-max-rows%n", rows, rows);
            return;
        }
        // Lucene: HNSW graph built at indexing; a RAM buffer large enough that 1M rows flush as one segment (a forced
        // merge would build the graph a second time)
        try (ByteBuffersDirectory dir = new ByteBuffersDirectory()) {
            long b0 = System.nanoTime();
            IndexWriterConfig cfg = new IndexWriterConfig().setRAMBufferSizeMB(2000);
            try (IndexWriter w = new IndexWriter(dir, cfg)) {
                for (int i = 0; i < docs.length; i++) {
                    Document doc = new Document();
                    doc.add(new KnnFloatVectorField(FIELD, docs[i], VectorSimilarityFunction.DOT_PRODUCT));
                    w.addDocument(doc);
                    if (i > 0 && i % 100_000 == 0) {
                        System.out.printf(Locale.ROOT, "%-8d lucene: %d documents indexed, %.0f s%n", rows, i,
                                (System.nanoTime() - b0) / 1e9);
                    }
                }
            }
            try (DirectoryReader reader = DirectoryReader.open(dir)) {
                System.out.printf(Locale.ROOT, "%-8d lucene index + HNSW build: %.1f s, %d segment(s)%n", rows,
                        (System.nanoTime() - b0) / 1e9, reader.leaves().size());
                // exact: every vector scored, a top-k heap
                long t0 = System.nanoTime();
                double recall = 0;
                for (int qi = 0; qi < queryCount; qi++) {
                    recall += overlap(exact(reader, queries[qi], k), truth.get(qi));
                }
                System.out.printf(Locale.ROOT, "%-8d %-31s %9.3f %8.1f%n", rows, "lucene exact", recall / queryCount,
                        queryCount / ((System.nanoTime() - t0) / 1e9));
                IndexSearcher searcher = new IndexSearcher(reader);
                for (int candidates : k >= 100 ? new int[] {k, 2 * k} : new int[] {10, 50, 100, 400}) {
                    long h0 = System.nanoTime();
                    double r = 0;
                    for (int qi = 0; qi < queryCount; qi++) {
                        ScoreDoc[] hits = searcher.search(new KnnFloatVectorQuery(FIELD, queries[qi], candidates), k)
                                .scoreDocs;
                        Set<Integer> ids = new HashSet<>();
                        for (ScoreDoc h : hits) {
                            ids.add(h.doc);
                        }
                        r += overlap(ids, truth.get(qi));
                    }
                    System.out.printf(Locale.ROOT, "%-8d %-31s %9.3f %8.1f%n", rows, "lucene HNSW, " + candidates
                            + " candidates", r / queryCount, queryCount / ((System.nanoTime() - h0) / 1e9));
                }
            }
        }
    }

    /** Lucene's exact search over every segment: its dot product on every vector, a bounded heap. */
    private static Set<Integer> exact(DirectoryReader reader, float[] q, int k) throws java.io.IOException {
        PriorityQueue<float[]> heap = new PriorityQueue<>((a, b) -> Float.compare(a[0], b[0]));
        for (var ctx : reader.leaves()) {
            LeafReader leaf = ctx.reader();
            FloatVectorValues values = leaf.getFloatVectorValues(FIELD);
            for (int doc = values.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = values.nextDoc()) {
                float s = VectorSimilarityFunction.DOT_PRODUCT.compare(q, values.vectorValue());
                if (heap.size() < k) {
                    heap.add(new float[] {s, ctx.docBase + doc});
                } else if (s > heap.peek()[0]) {
                    heap.poll();
                    heap.add(new float[] {s, ctx.docBase + doc});
                }
            }
        }
        Set<Integer> ids = new HashSet<>();
        for (float[] e : heap) {
            ids.add((int) e[1]);
        }
        return ids;
    }

    /** Lucene's exact kernel ({@code VectorUtil.dotProduct}, Panama-vectorised) over arrays, a bounded heap. */
    private static Set<Integer> exactArrays(float[][] docs, float[] q, int k) {
        PriorityQueue<float[]> heap = new PriorityQueue<>((a, b) -> Float.compare(a[0], b[0]));
        for (int doc = 0; doc < docs.length; doc++) {
            float s = org.apache.lucene.util.VectorUtil.dotProduct(q, docs[doc]);
            if (heap.size() < k) {
                heap.add(new float[] {s, doc});
            } else if (s > heap.peek()[0]) {
                heap.poll();
                heap.add(new float[] {s, doc});
            }
        }
        Set<Integer> ids = new HashSet<>();
        for (float[] e : heap) {
            ids.add((int) e[1]);
        }
        return ids;
    }

    private static double overlap(Set<Integer> got, Set<Integer> truth) {
        int n = 0;
        for (int id : got) {
            n += truth.contains(id) ? 1 : 0;
        }
        return (double) n / truth.size();
    }

    private static float[] perturbed(float[] base, double sigma, Random rnd) {
        float[] v = new float[DIM];
        double sq = 0;
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) (base[i] + sigma * rnd.nextGaussian());
            sq += (double) v[i] * v[i];
        }
        float inv = (float) (1 / Math.sqrt(sq));
        for (int i = 0; i < DIM; i++) {
            v[i] *= inv;
        }
        return v;
    }

    private static float[] unit(Random rnd) {
        float[] v = new float[DIM];
        double sq = 0;
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) rnd.nextGaussian();
            sq += (double) v[i] * v[i];
        }
        float inv = (float) (1 / Math.sqrt(sq));
        for (int i = 0; i < DIM; i++) {
            v[i] *= inv;
        }
        return v;
    }
}
