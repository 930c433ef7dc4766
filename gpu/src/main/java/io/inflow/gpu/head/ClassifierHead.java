package io.inflow.gpu.head;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.safetensors.SafetensorsFile;
import io.inflow.gpu.pooling.PoolingMode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;

/**
 * A classification head over pooled sentence embeddings (softmax regression), loaded from a scorer directory:
 * {@value #SCORER_FILE} (a {@link ScorerConfig}: name, version, the encoder settings it expects, labels) and
 * {@value #WEIGHTS_FILE} ({@code classifier.weight [labels, dim]}, {@code classifier.bias [labels]}, F32/F16/BF16).
 * The directory is a classpath resource (bundled scorers such as {@code models/spam-ham-minilm}) or a directory on
 * disk. Scores are computed in plain Java on the heap (double sums, float results); the head is immutable and
 * thread-safe.
 *
 * <pre>{@code
 * ClassifierHead head = ClassifierHead.fromResource("models/spam-ham-minilm");
 * // embeddings: float[rows * 384] from a TextEncoder built as the head expects: head.config().encoder(),
 * // pooling(), normalize(), maxTokens() (here all-minilm-l6-v2, mean, true, 128)
 * float[] p = head.scores(embeddings, rows);   // [rows, 2] softmax, row-major: p[r * 2 + 1] = P(spam)
 * int[] top = head.argmax(embeddings, rows);   // head.labels().get(top[r]) is "ham" or "spam"
 * }</pre>
 *
 * <p>Loading checks the files: a missing or ill-typed key of {@value #SCORER_FILE}, a missing tensor, or a weight
 * whose rows do not match the labels fails with an {@link IllegalArgumentException} naming the file and the key.
 */
public final class ClassifierHead {
    /** The scorer description in a scorer directory. */
    public static final String SCORER_FILE = "scorer.json";
    /** The weights in a scorer directory. */
    public static final String WEIGHTS_FILE = "head.safetensors";
    /** Tensor names in {@value #WEIGHTS_FILE}. */
    public static final String WEIGHT = "classifier.weight";
    public static final String BIAS = "classifier.bias";

    private final ScorerConfig config;
    private final float[] weight;
    private final float[] bias;
    private final int dim;

    private ClassifierHead(ScorerConfig config, float[] weight, float[] bias, int dim) {
        this.config = config;
        this.weight = weight;
        this.bias = bias;
        this.dim = dim;
    }

    /** Loads a scorer directory from the classpath, e.g. {@code models/spam-ham-minilm}. */
    public static ClassifierHead fromResource(String resourceDir) throws IOException {
        String dir = resourceDir.endsWith("/") ? resourceDir : resourceDir + "/";
        String where = "classpath:" + dir;
        ClassLoader loader = ClassifierHead.class.getClassLoader();
        ScorerConfig config;
        try (InputStream in = open(loader, dir + SCORER_FILE)) {
            config = parseConfig(in, where + SCORER_FILE);
        }
        Path tmp = Files.createTempFile("inflow-classifier-", ".safetensors");
        try {
            try (InputStream in = open(loader, dir + WEIGHTS_FILE)) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            return load(config, tmp, where + WEIGHTS_FILE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Loads a scorer directory on disk ({@value #SCORER_FILE} and {@value #WEIGHTS_FILE} in it). */
    public static ClassifierHead fromDirectory(Path dir) throws IOException {
        Path scorer = dir.resolve(SCORER_FILE);
        Path weights = dir.resolve(WEIGHTS_FILE);
        for (Path p : List.of(scorer, weights)) {
            if (!Files.isRegularFile(p)) {
                throw new IOException(p + " is missing (a scorer directory holds " + SCORER_FILE + " and "
                        + WEIGHTS_FILE + ")");
            }
        }
        ScorerConfig config;
        try (InputStream in = Files.newInputStream(scorer)) {
            config = parseConfig(in, scorer.toString());
        }
        return load(config, weights, weights.toString());
    }

    private static InputStream open(ClassLoader loader, String resource) throws IOException {
        InputStream in = loader.getResourceAsStream(resource);
        if (in == null) {
            throw new IOException("classpath:" + resource + " is missing");
        }
        return in;
    }

    private static ScorerConfig parseConfig(InputStream in, String file) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(in);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        return ScorerConfig.parse(root, file);
    }

    private static ClassifierHead load(ScorerConfig config, Path path, String file) throws IOException {
        int labels = config.labels().size();
        WeightArray w;
        WeightArray b;
        try (SafetensorsFile f = SafetensorsFile.open(path)) {
            w = f.read(WEIGHT).orElseThrow(() -> missing(file, WEIGHT, "[" + labels + ", dim]"));
            b = f.read(BIAS).orElseThrow(() -> missing(file, BIAS, "[" + labels + "]"));
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        int[] ws = w.shape();
        if (ws.length != 2 || ws[0] != labels || ws[1] < 1) {
            throw new IllegalArgumentException(file + ": tensor '" + WEIGHT + "' has shape " + Arrays.toString(ws)
                    + "; expected [" + labels + ", dim]: one row per label of " + SCORER_FILE + " " + config.labels());
        }
        if (b.shape().length != 1 || b.shape()[0] != labels) {
            throw new IllegalArgumentException(file + ": tensor '" + BIAS + "' has shape "
                    + Arrays.toString(b.shape()) + "; expected [" + labels + "] (the labels of " + SCORER_FILE + ")");
        }
        return new ClassifierHead(config, w.data(), b.data(), ws[1]);
    }

    private static IllegalArgumentException missing(String file, String tensor, String shape) {
        return new IllegalArgumentException(file + ": tensor '" + tensor + "' (shape " + shape + ") is missing");
    }

    /** What {@value #SCORER_FILE} says. */
    public ScorerConfig config() {
        return config;
    }

    public String name() {
        return config.name();
    }

    public String version() {
        return config.version();
    }

    /** Class names in score order. */
    public List<String> labels() {
        return config.labels();
    }

    /** Width of the embeddings the head reads. */
    public int dimension() {
        return dim;
    }

    /** The pooling the embeddings must come from (the encoder's settings are in {@link #config()}). */
    public PoolingMode pooling() {
        return config.pooling();
    }

    /**
     * Class probabilities: {@code softmax(x W^T + b)} per row.
     *
     * @param embeddings {@code [rows, dimension()]} row-major
     * @return {@code [rows, labels().size()]} row-major, each row sums to 1
     */
    public float[] scores(float[] embeddings, int rows) {
        int n = labels().size();
        float[] out = new float[rows * n];
        double[] logits = new double[n];
        checkInput(embeddings, rows);
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < n; c++) {
                logits[c] = logit(embeddings, r, c);
                max = Math.max(max, logits[c]);
            }
            double sum = 0;
            for (int c = 0; c < n; c++) {
                logits[c] = Math.exp(logits[c] - max);
                sum += logits[c];
            }
            for (int c = 0; c < n; c++) {
                out[r * n + c] = (float) (logits[c] / sum);
            }
        }
        return out;
    }

    /** The index of the most probable label per row (the first on ties); {@code labels().get(i)} names it. */
    public int[] argmax(float[] embeddings, int rows) {
        checkInput(embeddings, rows);
        int[] out = new int[rows];
        for (int r = 0; r < rows; r++) {
            double best = logit(embeddings, r, 0);
            for (int c = 1; c < labels().size(); c++) {
                double l = logit(embeddings, r, c);
                if (l > best) {
                    best = l;
                    out[r] = c;
                }
            }
        }
        return out;
    }

    private double logit(float[] x, int row, int label) {
        double s = bias[label];
        int xo = row * dim;
        int wo = label * dim;
        for (int k = 0; k < dim; k++) {
            s += (double) x[xo + k] * weight[wo + k];
        }
        return s;
    }

    private void checkInput(float[] embeddings, int rows) {
        if (rows < 0 || (long) rows * dim != embeddings.length) {
            throw new IllegalArgumentException(name() + ": expected " + rows + " x " + dim + " = " + (long) rows * dim
                    + " embedding values, got " + embeddings.length);
        }
    }

    @Override
    public String toString() {
        return "ClassifierHead[" + name() + " v" + version() + ", " + dim + " -> " + labels() + "]";
    }
}
