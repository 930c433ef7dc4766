package io.inflow.gpu.cluster;

import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.batch.ImageBatch;
import io.inflow.gpu.encoder.TextEncoder;
import io.inflow.gpu.encoder.TextEncoderConfig;
import io.inflow.gpu.encoder.vit.VitEncoder;
import io.inflow.gpu.encoder.vit.VitEncoderConfig;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.testing.FashionMnist;
import io.inflow.gpu.testing.MiniLm;
import io.inflow.gpu.testing.ModelTokenizer;
import io.inflow.gpu.testing.TokenBatch;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Assumptions;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;

/**
 * Labelled point sets the clustering tests share: generated blobs with uniform noise, scikit-learn's digits (Debian
 * {@code python3-sklearn}, installed by {@code .ci/run}), a degenerate set of duplicates and ties, and two sets of
 * real embeddings: Fashion-MNIST t10k images through the project's ViT (Debian {@code dataset-fashion-mnist}) and
 * WordNet noun glosses through MiniLM (Debian {@code wordnet-base}). The embedding sets skip the calling test (JUnit
 * assumption) when their Debian package is missing.
 *
 * <p>{@code ClusterDataSets.Labelled blobs = ClusterDataSets.blobs(600, 8, 4, 0.1, 42);}
 */
final class ClusterDataSets {

    /** Where Debian's {@code python3-sklearn} puts the digits (1,797 8x8 images, 64 values 0..16, and a label). */
    static final Path DIGITS = Path.of("/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz");

    /** The project's Fashion-MNIST ViT (classpath resource; 128-dim class-token embedding). */
    static final String VIT_MODEL = "models/vit-fashion-mnist";
    /** MiniLM's input limit in the pipeline; WordNet glosses are far shorter. */
    static final int MINILM_MAX_TOKENS = 256;
    /** Encoder batch sizes (rows per call). */
    private static final int IMAGE_BATCH = 250;
    private static final int TEXT_BATCH = 64;
    /** Encoder threads: the CI machine's two cores. */
    private static final int THREADS = 2;

    /** Points and their true groups (-1: generated noise). */
    record Labelled(String name, Points points, int[] labels) {
    }

    private ClusterDataSets() {
    }

    /**
     * {@code n} points in {@code dim} dimensions: {@code blobs} Gaussian blobs (unit spread, centres 10 apart on
     * average) plus a {@code noiseShare} of uniform noise over the blobs' bounding box.
     */
    static Labelled blobs(int n, int dim, int blobs, double noiseShare, long seed) {
        Random rnd = new Random(seed);
        double[][] centres = new double[blobs][dim];
        for (double[] c : centres) {
            for (int k = 0; k < dim; k++) {
                c[k] = rnd.nextDouble() * 20 - 10;
            }
        }
        int noise = (int) Math.round(n * noiseShare);
        float[] data = new float[n * dim];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            if (i < n - noise) {
                int b = i % blobs;
                labels[i] = b;
                for (int k = 0; k < dim; k++) {
                    data[i * dim + k] = (float) (centres[b][k] + rnd.nextGaussian() * (0.5 + 0.25 * b));
                }
            } else {
                labels[i] = -1;
                for (int k = 0; k < dim; k++) {
                    data[i * dim + k] = (float) (rnd.nextDouble() * 26 - 13);
                }
            }
        }
        return new Labelled("blobs", new Points(data, n, dim), labels);
    }

    /** scikit-learn's digits: 1,797 points of 64 pixel intensities, labels 0..9. */
    static Labelled digits() throws IOException {
        List<float[]> rows = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                new GZIPInputStream(Files.newInputStream(DIGITS)), StandardCharsets.US_ASCII))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                String[] f = line.split(",");
                float[] r = new float[f.length - 1];
                for (int k = 0; k < r.length; k++) {
                    r[k] = Float.parseFloat(f[k]);
                }
                rows.add(r);
                labels.add((int) Float.parseFloat(f[f.length - 1]));
            }
        }
        return new Labelled("digits", Points.of(rows.toArray(new float[0][])),
                labels.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * Ties and duplicates: three tight groups on an integer grid (every group's points repeated three times, so core
     * distances are 0 for small {@code minSamples} and many distances are equal), plus a line of evenly spaced points
     * (all neighbour distances tied) as noise.
     */
    static Labelled degenerate() {
        List<float[]> rows = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        int[][] origins = {{0, 0}, {40, 0}, {0, 40}};
        for (int g = 0; g < origins.length; g++) {
            for (int x = 0; x < 4; x++) {
                for (int y = 0; y < 4; y++) {
                    for (int copy = 0; copy < 3; copy++) {
                        rows.add(new float[] {origins[g][0] + x, origins[g][1] + y});
                        labels.add(g);
                    }
                }
            }
        }
        for (int i = 0; i < 12; i++) {
            rows.add(new float[] {20 + 5 * i, 60});
            labels.add(-1);
        }
        return new Labelled("degenerate", Points.of(rows.toArray(new float[0][])),
                labels.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * The first {@code n} images of Fashion-MNIST's t10k split (Debian's {@code dataset-fashion-mnist}) embedded by
     * the project's ViT: the CLS-pooled final-LayerNorm output, 128 dims, on the fast CPU backend; labels are the 10
     * classes. Every Arrow buffer is freed (the allocator is closed, which fails on a leak).
     *
     * <p>{@code ClusterDataSets.Labelled fashion = ClusterDataSets.fashionVit(2000);   // 2,000 x 128}
     */
    static Labelled fashionVit(int n) throws IOException {
        Assumptions.assumeTrue(FashionMnist.debianInstalled(), "Fashion-MNIST's t10k split is missing ("
                + FashionMnist.DEBIAN_DIR + "): apt-get install dataset-fashion-mnist (.ci/run does)");
        FashionMnist t10k = FashionMnist.debian("t10k");
        if (n > t10k.size()) {
            throw new IllegalArgumentException(n + " images asked for, t10k has " + t10k.size());
        }
        ImagePreprocessor pre;
        try (InputStream config = ClusterDataSets.class.getClassLoader()
                .getResourceAsStream(VIT_MODEL + "/config.json")) {
            if (config == null) {
                throw new IOException("model resource not found: " + VIT_MODEL + "/config.json");
            }
            pre = new ImagePreprocessor(ImagePreprocessConfig.fromModelConfig(config));
        }
        int c = pre.config().channels();
        int h = pre.config().height();
        int w = pre.config().width();
        float[] data;
        int dim;
        try (BufferAllocator allocator = new RootAllocator();
             VitEncoder vit = VitEncoder.create(VitEncoderConfig.builder().modelResource(VIT_MODEL)
                     .pooling(PoolingMode.CLS).backend(BackendKind.CPU).threads(THREADS).allocator(allocator)
                     .build());
             ImageBatch batch = new ImageBatch(allocator, c, h, w, IMAGE_BATCH)) {
            dim = vit.dimension();
            data = new float[n * dim];
            for (int start = 0; start < n; start += IMAGE_BATCH) {
                batch.clear();
                int rows = Math.min(IMAGE_BATCH, n - start);
                for (int i = 0; i < rows; i++) {
                    pre.appendTo(batch, t10k.image(start + i));
                }
                VitOutput out = vit.encode(Tensor.wrap(batch.pixelValuesBuffer(), DType.FLOAT32, rows, c, h, w));
                System.arraycopy(out.embeddings(), 0, data, start * dim, rows * dim);
            }
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = t10k.label(i);
        }
        return new Labelled("fashion-vit", new Points(data, n, dim), labels);
    }

    /**
     * {@code n} WordNet noun synsets spread evenly over Debian's {@code wordnet-base} data.noun
     * ({@link WordNetGlosses#spread}), each {@code "lemma: definition"} embedded by MiniLM (all-MiniLM-L6-v2: mean
     * pooling, L2-normalised, 384 dims, fast CPU backend); the label is the synset's lexicographer file (03..28).
     * Row {@code i} is synset {@code i} of {@code WordNetGlosses.spread(WordNetGlosses.read(DATA_NOUN), n)}.
     *
     * <p>{@code ClusterDataSets.Labelled nouns = ClusterDataSets.wordnetMiniLm(2000);   // 2,000 x 384}
     */
    static Labelled wordnetMiniLm(int n) throws IOException {
        Assumptions.assumeTrue(Files.isRegularFile(WordNetGlosses.DATA_NOUN), "WordNet's noun data is missing ("
                + WordNetGlosses.DATA_NOUN + "): apt-get install wordnet-base (.ci/run does)");
        return wordnetMiniLm(WordNetGlosses.spread(WordNetGlosses.read(WordNetGlosses.DATA_NOUN), n));
    }

    /** MiniLM embeddings of the given synsets ({@code "lemma: definition"}), in their order; labels: lex files. */
    static Labelled wordnetMiniLm(List<WordNetGlosses.Synset> synsets) throws IOException {
        int n = synsets.size();
        float[] data;
        int dim;
        try (BufferAllocator allocator = new RootAllocator();
             TextEncoder enc = TextEncoder.create(TextEncoderConfig.builder().onnxResource(MiniLm.ONNX)
                     .normalize(true).backend(BackendKind.CPU).threads(THREADS)
                     .maxSequenceLength(MINILM_MAX_TOKENS).allocator(allocator).build());
             ModelTokenizer tok = ModelTokenizer.fromResource(MiniLm.TOKENIZER, MINILM_MAX_TOKENS)) {
            dim = enc.dimension();
            data = new float[n * dim];
            long[][] ids = new long[n][];
            List<Integer> order = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                ids[i] = tok.ids(synsets.get(i).text());
                order.add(i);
            }
            order.sort(Comparator.comparingInt(i -> ids[i].length));   // batches of similar length: little padding
            for (int start = 0; start < n; start += TEXT_BATCH) {
                List<Integer> rows = order.subList(start, Math.min(n, start + TEXT_BATCH));
                TokenBatch tb = TokenBatch.of(rows.stream().map(i -> ids[i]).toArray(long[][]::new));
                float[] out;
                try (ArrowBuf idBuf = allocator.buffer(4L * tb.ids().length);
                     ArrowBuf lenBuf = allocator.buffer(4L * tb.batch())) {
                    Tensor idt = Tensor.wrap(idBuf, DType.INT32, tb.batch(), tb.seq());
                    Tensor lent = Tensor.wrap(lenBuf, DType.INT32, tb.batch());
                    idt.copyFrom(tb.ids());
                    lent.copyFrom(tb.lengths());
                    out = enc.encode(idt, lent);
                }
                for (int r = 0; r < rows.size(); r++) {
                    System.arraycopy(out, r * dim, data, rows.get(r) * dim, dim);
                }
            }
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = synsets.get(i).lexFile();
        }
        return new Labelled("wordnet-minilm", new Points(data, n, dim), labels);
    }
}
