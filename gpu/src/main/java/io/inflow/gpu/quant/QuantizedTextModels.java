package io.inflow.gpu.quant;

import io.inflow.gpu.text.TextModel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Where a running job gets its integer model: a file written by the {@code quantize} command, or the bundled
 * calibration run once per machine and kept in a cache directory. Quantizing is deterministic (same float weights,
 * same calibration texts, same code: the same bytes), so a cached model is the model every task manager would make;
 * the cache key holds everything that changes it, and {@link #QUANTIZER_VERSION} is bumped when the calibration
 * code changes its output. Two processes quantizing at once each write a private directory and move it into place;
 * the loser uses the winner's.
 *
 * <pre>{@code
 * Int8Bert q = QuantizedTextModels.cached(TextModel.ALL_MINILM_L6_V2, 1.0, 128, Path.of("/tmp/inflow-quantized"),
 *         2, System.out::println);                 // about 20 s the first time on 2 cores, then a load
 * Int8Bert f = QuantizedTextModels.load(Path.of("out/model.safetensors"), TextModel.ALL_MINILM_L6_V2, 128);
 * }</pre>
 */
public final class QuantizedTextModels {

    /** Part of every cache key; bump when the quantizer makes different bytes from the same inputs. */
    public static final String QUANTIZER_VERSION = "2026-12-02";
    /** Calibration texts taken from the bundled set (the {@code quantize} command's default). */
    public static final int CALIBRATION_TEXTS = 64;
    /** SmoothQuant alpha (the {@code quantize} command's default). */
    public static final double SMOOTHING = CalibrationOptions.defaults().smoothing();

    private QuantizedTextModels() {
    }

    /**
     * The model quantized from the bundled calibration texts, from {@code cacheDir} when it was made before.
     *
     * @param sizeBudget 1 for INT8 everywhere; below 1, mixed INT4/INT8 ({@link MixedPrecision})
     * @param maxTokens  truncation of the calibration texts (the scorer's token limit)
     */
    public static Int8Bert cached(TextModel model, double sizeBudget, int maxTokens, Path cacheDir, int threads,
                                  Consumer<String> log) throws IOException {
        Path dir = cacheDir.resolve(key(model, sizeBudget, maxTokens));
        Path file = dir.resolve("model.safetensors");
        if (Files.isRegularFile(file)) {
            log.accept("loading the quantized " + model.modelName() + " from the cache: " + file);
            return load(file, model, maxTokens);
        }
        Files.createDirectories(cacheDir);
        Path tmp = Files.createTempDirectory(cacheDir, dir.getFileName() + ".tmp-");
        log.accept("quantizing " + model.modelName() + (sizeBudget < 1 ? " (mixed INT4/INT8 at " + sizeBudget
                + " of the INT8 layer size)" : " (INT8)") + " on the bundled calibration texts into " + dir
                + " (once per machine; about 20 s on 2 cores)");
        try {
            TextQuantization.run(new TextQuantization.Options(model.modelName(), null, CALIBRATION_TEXTS, 0, maxTokens,
                    SMOOTHING, tmp, threads, sizeBudget), lines(log));
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException | AtomicMoveNotSupportedException e) {
                log.accept(dir + " was written by another process meanwhile; using it");
            }
        } finally {
            deleteTree(tmp);
        }
        return load(file, model, maxTokens);
    }

    /**
     * A model file of the {@code quantize} command, checked to be quantized from {@code model} with texts truncated
     * to {@code maxTokens}.
     */
    public static Int8Bert load(Path file, TextModel model, int maxTokens) throws IOException {
        check(file, model, maxTokens);
        return Int8BertFile.load(file);
    }

    /** The checks of {@link #load} from the file's metadata alone (cheap: the weights are not read). */
    public static void check(Path file, TextModel model, int maxTokens) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " does not exist (write it with ./inflow quantize --out DIR; the model is"
                    + " DIR/model.safetensors)");
        }
        Map<String, String> meta = Int8BertFile.metadata(file);
        String source = meta.get("source_model");
        if (!model.modelName().equals(source)) {
            throw new IllegalArgumentException(file + " was quantized from " + source + ", not " + model.modelName()
                    + ": quantize " + model.modelName() + " (./inflow quantize --model " + model.modelName() + ")");
        }
        String tokens = meta.get("max_tokens");
        if (tokens != null && Integer.parseInt(tokens) != maxTokens) {
            throw new IllegalArgumentException(file + " was calibrated on texts of at most " + tokens
                    + " tokens, the scorer reads " + maxTokens + ": quantize again with --max-tokens " + maxTokens);
        }
        String format = meta.get("format");
        if (!Int8BertFile.FORMAT.equals(format)) {
            throw new IOException(file + ": metadata format is " + format + ", expected " + Int8BertFile.FORMAT
                    + " (write it with ./inflow quantize)");
        }
    }

    /** The cache directory name: model, precision, token limit, quantizer version and a digest of the texts. */
    static String key(TextModel model, double sizeBudget, int maxTokens) {
        String precision = sizeBudget >= 1 ? "int8" : String.format(Locale.ROOT, "mixed%03d",
                Math.round(sizeBudget * 100));
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (String t : CalibrationTexts.bundled().subList(0, Math.min(CALIBRATION_TEXTS,
                    CalibrationTexts.bundled().size()))) {
                d.update(t.getBytes(StandardCharsets.UTF_8));
                d.update((byte) 0);
            }
            d.update((QUANTIZER_VERSION + "|" + SMOOTHING + "|" + TextModel.WEIGHTS_VERSION)
                    .getBytes(StandardCharsets.UTF_8));
            String digest = HexFormat.of().formatHex(d.digest()).substring(0, 12);
            return model.modelName() + "-" + precision + "-t" + maxTokens + "-" + digest;
        } catch (NoSuchAlgorithmException | IOException e) {
            throw new IllegalStateException("cannot digest the bundled calibration texts", e);
        }
    }

    /** A print stream that hands each line to {@code log}. */
    private static PrintStream lines(Consumer<String> log) {
        return new PrintStream(new ByteArrayOutputStream() {
            @Override
            public synchronized void flush() {
                String s = toString(StandardCharsets.UTF_8);
                int nl;
                while ((nl = s.indexOf('\n')) >= 0) {
                    log.accept(s.substring(0, nl));
                    s = s.substring(nl + 1);
                }
                reset();
                byte[] rest = s.getBytes(StandardCharsets.UTF_8);
                write(rest, 0, rest.length);
            }
        }, true, StandardCharsets.UTF_8);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
