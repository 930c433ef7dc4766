package io.inflow.gpu.quant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.encoder.vit.VitConfig;
import io.inflow.gpu.encoder.vit.VitEncoder;
import io.inflow.gpu.encoder.vit.VitEncoderConfig;
import io.inflow.gpu.encoder.vit.VitOutput;
import io.inflow.gpu.image.DecodedImage;
import io.inflow.gpu.image.ImagePreprocessConfig;
import io.inflow.gpu.image.ImagePreprocessor;
import io.inflow.gpu.model.safetensors.SafetensorsWeights;
import io.inflow.gpu.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code quantize} command for an image model (a ViT or CLIP vision directory; bundled:
 * {@value #BUNDLED_VIT}): calibrates the integer-only ViT ({@link VitQuantizer}) on images, writes
 * {@code model.safetensors} ({@link Int8VitFile}) and {@code report.json} + {@code report.md} (size, agreement with
 * the float model's top-1 and cosine of the class-token features on held-out images, every calibration point).
 *
 * <pre>{@code
 * ImageQuantization.run(new ImageQuantization.Options("vit-fashion-mnist", null, 256, 256, 0.8, Path.of("out"), 2),
 *         System.out);   // calibrates on bundled Fashion-MNIST train images 0..255, measures on 256..511
 * }</pre>
 */
public final class ImageQuantization {
    /** The bundled ViT, also the name {@code --model} takes. */
    public static final String BUNDLED_VIT = "vit-fashion-mnist";

    /**
     * @param model       {@value #BUNDLED_VIT} or a model directory ({@code config.json} + safetensors weights)
     * @param calibration a directory of images or an IDX image file, or null for the bundled images
     * @param images      images to calibrate on (the first ones)
     * @param heldOut     images after those, to measure agreement with float
     * @param smoothing   SmoothQuant alpha for the LayerNorm outputs
     * @param out         output directory (created)
     * @param threads     CPU threads
     */
    public record Options(String model, Path calibration, int images, int heldOut, double smoothing, Path out,
                          int threads) {
        public Options {
            if (images < 1) {
                throw new IllegalArgumentException("--images must be at least 1 (found " + images + ")");
            }
            if (heldOut < 0) {
                throw new IllegalArgumentException("--held-out must be 0 or more (found " + heldOut + ")");
            }
            if (out == null) {
                throw new IllegalArgumentException("--out DIR is required");
            }
        }
    }

    /** What was written and measured ({@code agreement} NaN without a classifier or held-out images). */
    public record Result(Path modelFile, Path report, double agreement, double meanCosine, double minCosine,
                         int heldOut, long floatBytes, long quantizedBytes) {
    }

    private ImageQuantization() {
    }

    /** Whether {@code model} names an image model: the bundled ViT or a directory whose config is a ViT/CLIP. */
    public static boolean isImageModel(String model) {
        if (BUNDLED_VIT.equals(model)) {
            return true;
        }
        Path config = Path.of(model).resolve("config.json");
        if (!Files.isRegularFile(config)) {
            return false;
        }
        try {
            VitConfig.read(config);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    public static Result run(Options o, PrintStream log) throws IOException {
        Path dir = BUNDLED_VIT.equals(o.model()) ? VitEncoder.resourceDir("models/" + BUNDLED_VIT) : Path.of(o.model());
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new IllegalArgumentException("--model " + o.model() + ": no config.json there; give "
                    + BUNDLED_VIT + ", a text model, or a ViT directory");
        }
        VitConfig c = VitConfig.read(configFile);
        ImagePreprocessor pre;
        try (InputStream in = Files.newInputStream(configFile)) {
            pre = new ImagePreprocessor(ImagePreprocessConfig.fromModelConfig(in));
        }
        int want = o.images() + o.heldOut();
        List<DecodedImage> all = o.calibration() == null ? CalibrationImages.bundled(want)
                : CalibrationImages.read(o.calibration(), want);
        String source = o.calibration() == null ? "bundled " + CalibrationImages.BUNDLED : o.calibration().toString();
        int nCal = Math.min(o.images(), all.size());
        List<DecodedImage> cal = all.subList(0, nCal);
        List<DecodedImage> held = all.subList(nCal, all.size());
        log.printf(Locale.ROOT, "quantize %s: %d calibration images, %d held-out images from %s%n", o.model(), nCal,
                held.size(), source);
        Files.createDirectories(o.out());
        long t0 = System.nanoTime();
        try (Backend backend = new FastCpuBackend(null, o.threads())) {
            Int8Vit q;
            try (SafetensorsWeights w = SafetensorsWeights.open(dir);
                 Tensor pixels = backend.upload(pixels(pre, cal), nCal, c.channels(), c.imageSize(), c.imageSize())) {
                q = VitQuantizer.quantize(w, c, pixels, backend,
                        CalibrationOptions.defaults().withSmoothing(o.smoothing()), log::println);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            Path modelFile = o.out().resolve("model.safetensors");
            Int8VitFile.save(q, Files.readString(configFile), modelFile, Map.of("source_model", o.model(),
                    "calibration_source", source, "calibration_images", Integer.toString(nCal)));
            log.printf(Locale.ROOT, "wrote %s (%.1f MB) after %.1f s%n", modelFile, Files.size(modelFile) / 1e6,
                    seconds);
            double[] acc = held.isEmpty() ? new double[] {Double.NaN, Double.NaN, Double.NaN}
                    : accuracy(dir, c, pre, q, backend, held, o.threads());
            long floatBytes = floatBytes(dir);
            ObjectMapper json = new ObjectMapper();
            ObjectNode r = json.createObjectNode();
            r.put("model", o.model()).put("format", Int8VitFile.FORMAT).put("calibration_source", source)
                    .put("calibration_images", nCal).put("held_out_images", held.size())
                    .put("smoothing", o.smoothing()).put("calibration_seconds", seconds)
                    .put("float_bytes", floatBytes).put("quantized_bytes", q.weightBytes());
            ObjectNode a = r.putObject("accuracy_against_float");
            a.put("top1_agreement", acc[0]).put("mean_feature_cosine", acc[1]).put("min_feature_cosine", acc[2]);
            var points = r.putArray("calibration");
            for (CalibrationPoint p : q.calibration()) {
                points.addObject().put("name", p.name()).put("max", p.max()).put("scale", p.scale())
                        .put("clipped", p.clippedFraction()).put("values", p.values());
            }
            Path report = o.out().resolve("report.json");
            json.writerWithDefaultPrettyPrinter().writeValue(report.toFile(), r);
            Files.writeString(o.out().resolve("report.md"), markdown(r, q));
            if (!held.isEmpty()) {
                log.printf(Locale.ROOT, "held-out images against float: top-1 agreement %.4f, class-token feature"
                        + " cosine mean %.5f, min %.5f over %d images%n", acc[0], acc[1], acc[2], held.size());
            }
            return new Result(modelFile, report, acc[0], acc[1], acc[2], held.size(), floatBytes, q.weightBytes());
        }
    }

    private static float[] pixels(ImagePreprocessor pre, List<DecodedImage> images) {
        int per = pre.outputFloats();
        float[] out = new float[images.size() * per];
        for (int i = 0; i < images.size(); i++) {
            System.arraycopy(pre.preprocess(images.get(i)), 0, out, i * per, per);
        }
        return out;
    }

    /** {top-1 agreement, mean cosine, min cosine} of the integer model against float on {@code images}. */
    private static double[] accuracy(Path dir, VitConfig c, ImagePreprocessor pre, Int8Vit q, Backend backend,
                                     List<DecodedImage> images, int threads) throws IOException {
        int agree = 0;
        double sum = 0;
        double min = 1;
        try (VitEncoder floatVit = VitEncoder.create(VitEncoderConfig.builder().modelDir(dir).normalize(false)
                     .backend(BackendKind.CPU).threads(threads).build());
             Int8VitEncoder intVit = new Int8VitEncoder(backend, q)) {
            for (int from = 0; from < images.size(); from += 64) {
                List<DecodedImage> part = images.subList(from, Math.min(images.size(), from + 64));
                try (Tensor x = backend.upload(pixels(pre, part), part.size(), c.channels(), c.imageSize(),
                        c.imageSize())) {
                    VitOutput f = floatVit.encode(x);
                    VitOutput i = intVit.encode(x);
                    for (int r = 0; r < part.size(); r++) {
                        if (q.hasClassifier()) {
                            agree += f.argmax(r) == i.argmax(r) ? 1 : 0;
                        }
                        double cos = cosine(f.embeddings(), i.embeddings(), r, c.hidden());
                        sum += cos;
                        min = Math.min(min, cos);
                    }
                }
            }
        }
        return new double[] {q.hasClassifier() ? (double) agree / images.size() : Double.NaN, sum / images.size(),
            min};
    }

    private static double cosine(float[] a, float[] b, int row, int d) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int j = 0; j < d; j++) {
            double x = a[row * d + j];
            double y = b[row * d + j];
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        return dot / Math.sqrt(na * nb);
    }

    private static long floatBytes(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    private static String markdown(ObjectNode r, Int8Vit q) {
        StringBuilder s = new StringBuilder();
        s.append("# Quantization report: ").append(r.get("model").asText()).append(" (integer-only INT8)\n\n");
        s.append(String.format(Locale.ROOT, "Size: %.1f MB float -> %.1f MB integer.%n%n",
                r.get("float_bytes").asLong() / 1e6, r.get("quantized_bytes").asLong() / 1e6));
        var a = r.get("accuracy_against_float");
        s.append(String.format(Locale.ROOT, "Against float on %d held-out images: top-1 agreement %.4f, class-token"
                        + " feature cosine mean %.5f, min %.5f.%n%n", r.get("held_out_images").asInt(),
                a.get("top1_agreement").asDouble(), a.get("mean_feature_cosine").asDouble(),
                a.get("min_feature_cosine").asDouble()));
        s.append(String.format(Locale.ROOT, "Calibration: %d images from %s, smoothing %.2f, %.1f s.%n%n",
                r.get("calibration_images").asInt(), r.get("calibration_source").asText(),
                r.get("smoothing").asDouble(), r.get("calibration_seconds").asDouble()));
        s.append("| point | max | scale | clipped | values |\n|---|---|---|---|---|\n");
        for (CalibrationPoint p : q.calibration()) {
            s.append(String.format(Locale.ROOT, "| %s | %.4g | %.4g | %.2e | %d |%n", p.name(), p.max(), p.scale(),
                    p.clippedFraction(), p.values()));
        }
        return s.toString();
    }
}
