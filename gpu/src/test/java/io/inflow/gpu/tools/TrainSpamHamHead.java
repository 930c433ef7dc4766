package io.inflow.gpu.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.inflow.gpu.head.ClassifierHead;
import io.inflow.gpu.model.WeightArray;
import io.inflow.gpu.model.safetensors.SafetensorsWriter;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.testing.SentenceEmbedder;
import io.inflow.gpu.text.TextModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains the spam/ham scorer head ({@code models/spam-ham-minilm}) on MiniLM embeddings of the texts that
 * {@code gpu/scripts/spam-ham-texts.mjs} builds; step 2 of {@code gpu/scripts/train-spam-ham-head.sh}. Embeds every
 * text (all-minilm-l6-v2, mean pooling, L2-normalised, 128 tokens, fast CPU backend), splits 80/20 stratified with a
 * fixed seed, picks the L2 penalty by 5-fold cross-validation on the training side, fits softmax regression
 * ({@link SoftmaxRegression}) on the whole training side, and writes the scorer directory plus a held-out sample for
 * {@code SpamHamHeadTest}. Every figure in {@code training.json} is computed by {@link ClassifierHead} from the
 * written files.
 *
 * <pre>{@code
 * mvn -B -q -pl gpu -am -Pbench test-compile exec:exec -Dbench.main=io.inflow.gpu.tools.TrainSpamHamHead \
 *     -Dbench.args="data=/tmp/spam-ham out=$PWD/gpu/src/main/resources/models/spam-ham-minilm \
 *     sample=$PWD/gpu/src/test/resources/spam-ham/held-out-sample.jsonl"
 * }</pre>
 *
 * <p>{@code data} holds {@code emails.jsonl} and {@code dataset.json}; the embeddings are cached there
 * ({@code embeddings.f32}, keyed by the SHA-256 of {@code emails.jsonl} and the encoder settings).
 */
public final class TrainSpamHamHead {
    static final String NAME = "spam-ham-minilm";
    static final String VERSION = "1";
    static final List<String> LABELS = List.of("ham", "spam");
    static final TextModel ENCODER = TextModel.ALL_MINILM_L6_V2;
    static final int MAX_TOKENS = 128;
    static final long SEED = 20251202L;
    static final double HELD_OUT = 0.2;
    static final int FOLDS = 5;
    static final double[] L2_GRID = {1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 3e-7, 1e-7};
    static final int SAMPLE = 300;
    static final int THREADS = 2;

    private TrainSpamHamHead() {
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = parse(argv);
        Path data = Path.of(args.getOrDefault("data", "/tmp/spam-ham"));
        Path out = Path.of(args.getOrDefault("out", "gpu/src/main/resources/models/" + NAME));
        Path sample = Path.of(args.getOrDefault("sample", "gpu/src/test/resources/spam-ham/held-out-sample.jsonl"));
        long start = System.nanoTime();
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        JsonNode dataset = json.readTree(data.resolve("dataset.json").toFile());
        LabelledTexts texts = LabelledTexts.read(data.resolve("emails.jsonl"), LABELS);
        System.out.printf("%d texts %s%n", texts.size(), Arrays.toString(texts.counts(all(texts.size()))));

        long t = System.nanoTime();
        Embedded emb = embed(data, texts);
        long embedMs = ms(t);
        System.out.printf("embedded in %d ms (%s), %d cut at %d tokens%n", embedMs, emb.cached ? "cache" : "computed",
                emb.truncated, MAX_TOKENS);

        LabelledTexts.Split split = texts.split(HELD_OUT, SEED, FOLDS);
        t = System.nanoTime();
        ArrayNode cv = json.createArrayNode();
        double bestL2 = Double.NaN;
        double bestAccuracy = -1;
        for (double l2 : L2_GRID) {
            double accuracy = crossValidate(emb.x, texts.labels(), split, l2);
            cv.addObject().put("l2", l2).put("accuracy", SpamHamReport.round(accuracy));
            System.out.printf("l2 %.0e: %d-fold accuracy %.4f%n", l2, FOLDS, accuracy);
            if (accuracy > bestAccuracy) {          // ties keep the larger penalty (the grid runs downwards)
                bestAccuracy = accuracy;
                bestL2 = l2;
            }
        }
        long cvMs = ms(t);
        t = System.nanoTime();
        SoftmaxRegression.Fit fit = SoftmaxRegression.fit(emb.x, emb.dim, split.train(), texts.labels(),
                LABELS.size(), bestL2);
        long fitMs = ms(t);

        Files.createDirectories(out);
        SafetensorsWriter.writeF32(out.resolve(ClassifierHead.WEIGHTS_FILE), List.of(
                new WeightArray(ClassifierHead.WEIGHT, new int[] {LABELS.size(), emb.dim}, fit.weight()),
                new WeightArray(ClassifierHead.BIAS, new int[] {LABELS.size()}, fit.bias())));
        SpamHamReport.writeScorer(json, out.resolve(ClassifierHead.SCORER_FILE));
        ClassifierHead head = ClassifierHead.fromDirectory(out);
        float[] p = head.scores(emb.x, texts.size());

        Files.write(out.resolve("held-out-ids.txt"), Arrays.stream(split.heldOut()).mapToObj(texts.ids()::get)
                .sorted().toList(), StandardCharsets.UTF_8);
        int[] sampleRows = sampleRows(texts, split);
        SpamHamReport.writeSample(sample, texts, sampleRows, p);

        ObjectNode report = describe(json, dataset, emb, texts, split, cv, bestL2, fit);
        ObjectNode res = report.putObject("results");
        res.set("train", SpamHamReport.evaluate(json, texts, split.train(), p));
        res.set("held_out", SpamHamReport.evaluate(json, texts, split.heldOut(), p));
        ObjectNode s = res.putObject("held_out_sample");
        s.put("file", "gpu/src/test/resources/spam-ham/" + sample.getFileName());
        s.put("selection", "the first " + SAMPLE + " held-out rows in split order, per class in proportion"
                + " (a seeded random subset)");
        s.setAll(SpamHamReport.evaluate(json, texts, sampleRows, p));
        ObjectNode msNode = report.putObject("ms");
        msNode.put("embed", embedMs).put("embeddings_cached", emb.cached).put("cross_validation", cvMs)
                .put("fit", fitMs).put("total", ms(start));
        json.writeValue(out.resolve("training.json").toFile(), report);
        System.out.println(json.writeValueAsString(res));
        System.out.printf("l2 %.0e, %d iterations, total %d ms%n", bestL2, fit.iterations(), ms(start));
    }

    /** The part of training.json that says what was done: dataset, encoder, split, training settings. */
    private static ObjectNode describe(ObjectMapper json, JsonNode dataset, Embedded emb, LabelledTexts texts,
            LabelledTexts.Split split, ArrayNode cv, double l2, SoftmaxRegression.Fit fit) {
        ObjectNode report = json.createObjectNode();
        report.put("name", NAME).put("version", VERSION);
        report.set("dataset", SpamHamReport.datasetNode(json, dataset));
        ObjectNode enc = report.putObject("encoder");
        enc.put("model", ENCODER.modelName()).put("weights", TextModel.WEIGHTS_VERSION).put("pooling", "mean")
                .put("normalize", true).put("max_tokens", MAX_TOKENS).put("backend", "cpu-fast")
                .put("threads", THREADS).put("texts_cut_at_max_tokens", emb.truncated);
        report.put("seed", SEED);
        ObjectNode sp = report.putObject("split");
        sp.put("method", "per class, rows in id order shuffled by java.util.Collections.shuffle(list, new Random(seed)),"
                + " ham then spam; the first round(0.2 n) of each class held out");
        sp.put("held_out_fraction", HELD_OUT);
        SpamHamReport.counts(sp.putObject("train"), texts, split.train());
        SpamHamReport.counts(sp.putObject("held_out"), texts, split.heldOut());
        sp.put("held_out_ids_file", "held-out-ids.txt");
        ObjectNode tr = report.putObject("training");
        tr.put("model", "softmax regression over 2 classes: p = softmax(x W^T + b), x the 384-d embedding");
        tr.put("objective", "mean cross-entropy + l2 / 2 * |W|^2 (bias not penalised), W and b from 0");
        tr.put("optimizer", "L-BFGS (memory " + SoftmaxRegression.MEMORY + ", Armijo backtracking), double "
                + "precision, one thread");
        tr.put("l2", l2).put("l2_choice", FOLDS + "-fold cross-validation accuracy on the training side, ties to"
                + " the larger penalty");
        tr.set("cross_validation", cv);
        tr.put("iterations", fit.iterations()).put("objective_at_end", SpamHamReport.round(fit.objective()));
        return report;
    }

    private record Embedded(float[] x, int dim, int truncated, boolean cached) {
    }

    /** Embeds every text, or reads the cached embeddings of the same emails.jsonl and settings. */
    private static Embedded embed(Path data, LabelledTexts texts) throws IOException, NoSuchAlgorithmException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(Files.readAllBytes(data.resolve("emails.jsonl")));
        sha.update((ENCODER.modelName() + "|mean|normalize|" + MAX_TOKENS).getBytes(StandardCharsets.UTF_8));
        String key = HexFormat.of().formatHex(sha.digest());
        Path cache = data.resolve("embeddings.f32");
        Path cacheKey = data.resolve("embeddings.key");
        if (Files.exists(cache) && Files.exists(cacheKey) && Files.readString(cacheKey).startsWith(key)) {
            String[] k = Files.readString(cacheKey).trim().split(" ");
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(cache)).order(ByteOrder.LITTLE_ENDIAN);
            float[] x = new float[b.remaining() / 4];
            b.asFloatBuffer().get(x);
            return new Embedded(x, Integer.parseInt(k[1]), Integer.parseInt(k[2]), true);
        }
        try (SentenceEmbedder e = SentenceEmbedder.create(ENCODER, PoolingMode.MEAN, true, MAX_TOKENS, THREADS)) {
            float[] x = e.embed(texts.texts());
            ByteBuffer b = ByteBuffer.allocate(4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(x);
            Files.write(cache, b.array());
            Files.writeString(cacheKey, key + " " + e.dimension() + " " + e.truncated() + "\n");
            return new Embedded(x, e.dimension(), e.truncated(), false);
        }
    }

    /** Mean accuracy over the folds of the training side, each fold predicted by a fit on the others. */
    static double crossValidate(float[] x, int[] labels, LabelledTexts.Split split, double l2) {
        int dim = x.length / labels.length;
        long correct = 0;
        for (int f = 0; f < FOLDS; f++) {
            List<Integer> fitRows = new ArrayList<>();
            List<Integer> testRows = new ArrayList<>();
            for (int i = 0; i < split.train().length; i++) {
                (split.trainFold()[i] == f ? testRows : fitRows).add(split.train()[i]);
            }
            SoftmaxRegression.Fit fit = SoftmaxRegression.fit(x, dim, fitRows.stream().mapToInt(Integer::intValue)
                    .toArray(), labels, LABELS.size(), l2);
            for (int r : testRows) {
                correct += predict(fit, x, r, dim) == labels[r] ? 1 : 0;
            }
        }
        return (double) correct / split.train().length;
    }

    private static int predict(SoftmaxRegression.Fit fit, float[] x, int row, int dim) {
        int best = 0;
        double bestLogit = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < LABELS.size(); c++) {
            double s = fit.bias()[c];
            for (int j = 0; j < dim; j++) {
                s += (double) x[row * dim + j] * fit.weight()[c * dim + j];
            }
            if (s > bestLogit) {
                bestLogit = s;
                best = c;
            }
        }
        return best;
    }

    /** The first SAMPLE held-out rows in split order, per class in proportion to the held-out counts. */
    static int[] sampleRows(LabelledTexts texts, LabelledTexts.Split split) {
        int[] held = texts.counts(split.heldOut());
        int[] want = new int[held.length];
        int total = split.heldOut().length;
        want[1] = (int) Math.round((double) SAMPLE * held[1] / total);
        want[0] = SAMPLE - want[1];
        int[] taken = new int[held.length];
        List<Integer> rows = new ArrayList<>();
        for (int r : split.heldOut()) {
            int c = texts.labels()[r];
            if (taken[c] < want[c]) {
                taken[c]++;
                rows.add(r);
            }
        }
        return rows.stream().sorted((a, b) -> texts.ids().get(a).compareTo(texts.ids().get(b)))
                .mapToInt(Integer::intValue).toArray();
    }

    private static int[] all(int n) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        return a;
    }

    private static long ms(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static Map<String, String> parse(String[] argv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String a : argv) {
            int eq = a.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("arguments are key=value (data, out, sample), got " + a);
            }
            m.put(a.substring(0, eq), a.substring(eq + 1));
        }
        return m;
    }
}
