package io.inflow.e2e.bench;

import io.inflow.connectors.kafka.KafkaOptions;
import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Backends;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.batch.TokenBatch;
import io.inflow.gpu.retrieval.Metric;
import io.inflow.gpu.retrieval.SearchRequest;
import io.inflow.gpu.retrieval.Storage;
import io.inflow.gpu.retrieval.TopK;
import io.inflow.gpu.retrieval.VectorChunk;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import io.inflow.jobs.config.PipelineOptions;
import io.inflow.jobs.config.PipelineSettings;
import io.inflow.operators.embed.TextBatchCompute;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.flink.configuration.Configuration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Retrieval quality with real relevance judgments (not a test): WordNet 3.0 nouns (Debian {@code wordnet-base},
 * {@code /usr/share/wordnet/data.noun}). The held-out split is every 16th noun synset in file order whose gloss has
 * at least 5 words (about 5,000); each synset's gloss is a document, each synset's first lemma is a query, and the
 * synset's own gloss is the one relevant document (a polysemous lemma's other senses count as wrong). Reports
 * MRR@10, nDCG@10 and recall@100 per model and storage, exact search over the index kernels (fast CPU backend):
 * the single-vector baseline. Then ({@code parts=maxsim}, {@link MaxSimQuality}) the two-stage comparison: the top
 * 100 of single-vector search reranked by MaxSim over per-token vectors, with no head and with each bundled
 * projection head ({@code models/colbert-heads/all-minilm-l6-v2}), token storage float32, int8, 1 bit. Then images:
 * Fashion-MNIST t10k (Debian {@code dataset-fashion-mnist}) with the bundled ViT, same class = relevant, mAP@10.
 *
 * <pre>
 * sudo apt-get install wordnet-base
 * mvn -B -q -pl e2e-tests -am -Pbench -DskipTests process-test-classes \
 *     -Dbench.main=io.inflow.e2e.bench.RetrievalQuality -Dbench.args="every=16 parts=text,maxsim,images"
 * </pre>
 */
public final class RetrievalQuality {

    private RetrievalQuality() {
    }

    public static void main(String[] args) throws Exception {
        int every = 16;
        String parts = "text,maxsim,images";
        String heads = "all";
        for (String a : args) {
            if (a.startsWith("every=")) {
                every = Integer.parseInt(a.substring(6));
            } else if (a.startsWith("parts=")) {
                parts = a.substring(6);
            } else if (a.startsWith("heads=")) {
                heads = a.substring(6);
            }
        }
        int status = 0;
        try {
            if (parts.contains("text")) {
                run(every);
            }
            if (parts.contains("maxsim")) {
                MaxSimQuality.run(every, heads);
            }
            if (parts.contains("images")) {
                images();
            }
        } catch (Throwable e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    private static void run(int every) throws Exception {
        List<WordNetNouns.Synset> split = WordNetNouns.heldOut(every);
        System.out.printf("WordNet 3.0 nouns, held-out split: every %dth synset with a gloss of 5+ words: %d"
                + " documents (glosses), %d queries (first lemma), 1 relevant document each%n", every, split.size(),
                split.size());
        System.out.println();
        System.out.println("| model | storage | MRR@10 | nDCG@10 | recall@10 | recall@100 |");
        System.out.println("|---|---|---|---|---|---|");
        for (String model : List.of("all-minilm-l6-v2", "bge-small-en-v15")) {
            Configuration conf = new Configuration();
            conf.set(KafkaOptions.BOOTSTRAP_SERVERS, "127.0.0.1:9");
            conf.setString(PipelineOptions.TEXT_MODEL.key(), model);
            PipelineSettings s = PipelineSettings.from(conf);
            long t0 = System.nanoTime();
            float[][] docs = embed(s, split.stream().map(WordNetNouns.Synset::gloss).toList());
            float[][] queries = embed(s, split.stream().map(WordNetNouns.Synset::lemma).toList());
            double embedSeconds = (System.nanoTime() - t0) / 1e9;
            for (Storage storage : Storage.values()) {
                double[] m = evaluate(docs, queries, storage);
                System.out.printf("| %s | %s | %.3f | %.3f | %.3f | %.3f |%n", model,
                        storage.name().toLowerCase(java.util.Locale.ROOT), m[0], m[1], m[2], m[3]);
            }
            System.err.printf("(%s: %d texts embedded in %.1f s)%n", model, 2 * split.size(), embedSeconds);
        }
    }

    private static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

    /**
     * Fashion-MNIST t10k with the bundled ViT: the first 1,000 images are queries, the other 9,000 the index; a
     * document is relevant when its class equals the query's (about 900 per query). mAP@10 = mean over queries of
     * (sum of precision@i at the relevant ranks i <= 10) / 10.
     */
    private static void images() throws Exception {
        if (!Files.isReadable(FASHION.resolve("t10k-images-idx3-ubyte.gz"))) {
            System.out.println("(Fashion-MNIST not installed: apt-get install dataset-fashion-mnist)");
            return;
        }
        byte[] images = gunzip(FASHION.resolve("t10k-images-idx3-ubyte.gz"));
        byte[] labels = gunzip(FASHION.resolve("t10k-labels-idx1-ubyte.gz"));
        int n = ((images[4] & 0xff) << 24) | ((images[5] & 0xff) << 16) | ((images[6] & 0xff) << 8) | (images[7] & 0xff);
        int side = 28;
        float[][] vectors = new float[n][];
        try (BufferAllocator alloc = new RootAllocator();
                io.inflow.gpu.encoder.vit.VitEncoder vit = io.inflow.gpu.encoder.vit.VitEncoder.create(
                        io.inflow.gpu.encoder.vit.VitEncoderConfig.builder().modelResource("models/vit-fashion-mnist")
                                .normalize(true).backend(BackendKind.CPU).threads(2).build())) {
            for (int from = 0; from < n; from += 64) {
                int to = Math.min(n, from + 64);
                try (io.inflow.gpu.batch.DecodedImageBatch batch =
                        new io.inflow.gpu.batch.DecodedImageBatch(alloc, to - from)) {
                    for (int i = from; i < to; i++) {
                        byte[] px = java.util.Arrays.copyOfRange(images, 16 + i * side * side, 16 + (i + 1) * side * side);
                        batch.append(new io.inflow.gpu.image.DecodedImage(side, side, 1, px,
                                io.inflow.gpu.image.ImageFormat.PNG));
                    }
                    var out = vit.encode(batch);
                    for (int i = from; i < to; i++) {
                        vectors[i] = java.util.Arrays.copyOfRange(out.embeddings(), (i - from) * out.dimension(),
                                (i - from + 1) * out.dimension());
                    }
                }
            }
        }
        int queries = 1000;
        float[][] docs = java.util.Arrays.copyOfRange(vectors, queries, n);
        System.out.println();
        System.out.printf("Fashion-MNIST t10k, bundled ViT (%d dims): %d queries against %d images, same class ="
                + " relevant%n%n", vectors[0].length, queries, docs.length);
        System.out.println("| storage | mAP@10 |");
        System.out.println("|---|---|");
        for (Storage storage : Storage.values()) {
            List<VectorChunk> chunks = new ArrayList<>();
            for (int i = 0; i < docs.length; i++) {
                if (i % 4096 == 0) {
                    chunks.add(new VectorChunk(storage, docs[0].length, 4096));
                }
                chunks.get(chunks.size() - 1).append(docs[i], 0, i, VectorChunk.NO_FILTER_CODE);
            }
            double sum = 0;
            try (Backend cpu = Backends.create(BackendKind.CPU, 2)) {
                int dim = docs[0].length;
                for (int from = 0; from < queries; from += 64) {
                    int m = Math.min(64, queries - from);
                    float[] q = new float[m * dim];
                    for (int i = 0; i < m; i++) {
                        System.arraycopy(vectors[from + i], 0, q, i * dim, dim);
                    }
                    TopK top = cpu.retrieval().search(chunks, new SearchRequest(q, m, dim, 10, Metric.COSINE, null));
                    for (int i = 0; i < m; i++) {
                        int label = labels[8 + from + i];
                        int hits = 0;
                        double ap = 0;
                        for (int r = 0; r < top.hits(i); r++) {
                            int doc = top.chunk(i, r) * 4096 + top.row(i, r);
                            if (labels[8 + queries + doc] == label) {
                                hits++;
                                ap += (double) hits / (r + 1);
                            }
                        }
                        sum += ap / 10;
                    }
                }
            }
            System.out.printf("| %s | %.3f |%n", storage.name().toLowerCase(java.util.Locale.ROOT), sum / queries);
        }
    }

    private static byte[] gunzip(Path p) throws IOException {
        try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(p))) {
            return in.readAllBytes();
        }
    }

    private static float[][] embed(PipelineSettings s, List<String> texts) throws Exception {
        TextBatchCompute compute = s.compute();
        compute.open();
        try (TextTokenizer tok = TextTokenizer.load(s.model(), s.maxTokens());
                BufferAllocator alloc = new RootAllocator()) {
            List<Tokenized> tokens = texts.stream().map(tok::encode).toList();
            Integer[] order = new Integer[texts.size()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, Comparator.comparingInt(i -> tokens.get(i).ids().length));
            float[][] out = new float[texts.size()][];
            for (int from = 0; from < order.length; from += 64) {
                int to = Math.min(order.length, from + 64);
                int len = tokens.get(order[to - 1]).ids().length;
                try (TokenBatch b = new TokenBatch(alloc, len, to - from)) {
                    for (int i = from; i < to; i++) {
                        b.append(tokens.get(order[i]).ids(), tokens.get(order[i]).truncated());
                    }
                    var result = compute.compute(b);
                    for (int i = from; i < to; i++) {
                        out[order[i]] = result.row(i - from);
                    }
                }
            }
            return out;
        } finally {
            compute.close();
        }
    }

    /** MRR@10, nDCG@10, recall@10, recall@100 of exact cosine search; document i is query i's relevant one. */
    private static double[] evaluate(float[][] docs, float[][] queries, Storage storage) {
        int dim = docs[0].length;
        List<VectorChunk> chunks = new ArrayList<>();
        for (int i = 0; i < docs.length; i++) {
            if (i % 4096 == 0) {
                chunks.add(new VectorChunk(storage, dim, 4096));
            }
            chunks.get(chunks.size() - 1).append(docs[i], 0, i, VectorChunk.NO_FILTER_CODE);
        }
        int[][] ranked = new int[queries.length][];
        try (Backend cpu = Backends.create(BackendKind.CPU, 2)) {
            for (int from = 0; from < queries.length; from += 64) {
                int n = Math.min(64, queries.length - from);
                float[] q = new float[n * dim];
                for (int i = 0; i < n; i++) {
                    System.arraycopy(queries[from + i], 0, q, i * dim, dim);
                }
                TopK top = cpu.retrieval().search(chunks, new SearchRequest(q, n, dim, 100, Metric.COSINE, null));
                for (int i = 0; i < n; i++) {
                    ranked[from + i] = new int[top.hits(i)];
                    for (int r = 0; r < top.hits(i); r++) {
                        ranked[from + i][r] = top.chunk(i, r) * 4096 + top.row(i, r);
                    }
                }
            }
        }
        return MaxSimQuality.metrics(ranked);   // document i is query i's relevant one
    }
}
