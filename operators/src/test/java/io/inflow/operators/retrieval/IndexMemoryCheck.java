package io.inflow.operators.retrieval;

import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.schemas.EnrichedEvent;
import io.inflow.schemas.ModelRef;
import io.inflow.schemas.RawRecord;
import io.inflow.schemas.SourceRef;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The README's sizing claim, checked (not a unit test): one index shard (the retrieval operator under Flink's harness,
 * heap keyed state as Flink's default backend keeps it) takes {@code docs} documents of 384 values in a JVM whose
 * heap is what the README tells a TaskManager to give (run with {@code -Xmx}); prints the heap used after GC per
 * 100,000 documents, takes a checkpoint of the whole state (streamed to files, as a job's checkpoints are), and
 * answers a query. An OutOfMemoryError means the
 * documented settings are wrong.
 *
 * <pre>
 * mvn -B -q -pl operators -am -Poperators-bench -DskipTests process-test-classes \
 *     -Dbench.args="docs=1000000 storage=float16" -Dbench.jvm=-Xmx3g
 * </pre>
 */
public final class IndexMemoryCheck {

    private static final int DIM = 384;

    private IndexMemoryCheck() {
    }

    public static void main(String[] args) throws Exception {
        int docs = 1_000_000;
        Storage storage = Storage.FLOAT16;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            switch (kv[0]) {
                case "docs" -> docs = Integer.parseInt(kv[1]);
                case "storage" -> storage = Storage.parse(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument " + a + " (docs=, storage=)");
            }
        }
        Runtime rt = Runtime.getRuntime();
        System.out.printf(Locale.ROOT, "index shard of %,d x %d %s documents, JVM max heap %d MB%n", docs, DIM,
                storage, rt.maxMemory() >> 20);
        long base = used();
        long t0 = System.nanoTime();
        RetrievalSettings settings = new RetrievalSettings(DIM, 10, Metric.COSINE, storage, 4096, 64);
        java.nio.file.Path checkpoints = java.nio.file.Files.createTempDirectory("inflow-index-memory-");
        try (ShardHarness shard = ShardHarness.open(settings, 0, 1, null, checkpoints)) {
            Random rnd = new Random(1);
            float[] v = new float[DIM];
            for (int d = 0; d < docs; d++) {
                for (int j = 0; j < DIM; j++) {
                    v[j] = (float) rnd.nextGaussian();
                }
                shard.corpus(DocUpdate.upsert("doc-" + d, v.clone(), null,
                        new RawRecord("corpus", 0, d, 0, null, null)));
                if ((d + 1) % 100_000 == 0) {
                    long u = used() - base;
                    System.out.printf(Locale.ROOT, "%,9d documents: heap %,6d MB (%,d bytes per document), %.0f s%n",
                            d + 1, u >> 20, u / (d + 1), (System.nanoTime() - t0) / 1e9);
                }
            }
            long s0 = System.nanoTime();
            var snapshot = shard.snapshot(1);
            System.out.printf(Locale.ROOT, "checkpoint of the keyed state: %,d MB in %.1f s; heap after %,d MB%n",
                    snapshot.getStateSize() >> 20, (System.nanoTime() - s0) / 1e9, (used() - base) >> 20);
            snapshot = null;
            RawRecord raw = new RawRecord("events.text", 0, 0, 0, null, null);
            EnrichedEvent e = new EnrichedEvent("q", "text", new SourceRef("events.text", 0, 0, 0L),
                    new ModelRef("m", "1"), 1, false, null, null, null, List.of(), Map.of(), 1);
            float[] q = new float[DIM];
            for (int j = 0; j < DIM; j++) {
                q[j] = (float) rnd.nextGaussian();
            }
            shard.query(new QueryRow(q, null, e, raw));
            shard.flush();
            ShardHits hits = shard.hits().get(0);
            System.out.printf(Locale.ROOT, "a query over %,d documents: %d hits, best %s%n", hits.documents(),
                    hits.docIds().length, hits.docIds()[0]);
        }
        System.exit(0);
    }

    private static long used() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
