package io.inflow.gpu.quant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.cpu.FastCpuBackend;
import io.inflow.gpu.encoder.BertEncoder;
import io.inflow.gpu.encoder.BertWeights;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.onnx.OnnxBertWeights;
import io.inflow.gpu.model.onnx.OnnxModel;
import io.inflow.gpu.pooling.PoolingMode;
import io.inflow.gpu.tensor.Tensor;
import io.inflow.gpu.text.TextModel;
import io.inflow.gpu.text.TextTokenizer;
import io.inflow.gpu.text.Tokenized;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code quantize} command for a bundled text encoder: float model + calibration texts in; the integer-only
 * INT8 model ({@code model.safetensors}, see {@link Int8BertFile}) and a report ({@code report.json},
 * {@code report.md}) out. The report gives the bits of every layer, the size against float, the accuracy against
 * the float model on held-out texts (cosine of pooled embeddings, relative error of every layer's hidden states)
 * and what calibration saw at each quantization point.
 *
 * <pre>{@code
 * TextQuantization.Result r = TextQuantization.run(new TextQuantization.Options("all-minilm-l6-v2", null, 64, 64,
 *         128, 0.8, Path.of("out/minilm-int8"), 2), System.out);
 * }</pre>
 */
public final class TextQuantization {

    /**
     * @param model             a bundled text model ({@link TextModel#byName})
     * @param calibration       a file of texts ({@link CalibrationTexts}), or null for the bundled set
     * @param calibrationTexts  texts to calibrate on (the first ones of the file)
     * @param heldOutTexts      texts after those, to measure accuracy against float
     * @param maxTokens         truncation of every text
     * @param smoothing         SmoothQuant alpha for LayerNorm outputs (0..1)
     * @param out               output directory (created)
     * @param threads           CPU threads
     * @param sizeBudget        1 for INT8 everywhere; below 1, layer-wise mixed INT4/INT8 ({@link MixedPrecision})
     *                          with the layers' weights at most this share of their INT8 size
     */
    public record Options(String model, Path calibration, int calibrationTexts, int heldOutTexts, int maxTokens,
                          double smoothing, Path out, int threads, double sizeBudget) {
        /** INT8 everywhere. */
        public Options(String model, Path calibration, int calibrationTexts, int heldOutTexts, int maxTokens,
                       double smoothing, Path out, int threads) {
            this(model, calibration, calibrationTexts, heldOutTexts, maxTokens, smoothing, out, threads, 1.0);
        }

        public Options {
            if (!(sizeBudget >= 0.5 && sizeBudget <= 1)) {
                throw new IllegalArgumentException("--size-budget must be in [0.5, 1] of the INT8 layers' size (found "
                        + sizeBudget + "): 1 keeps every layer at 8 bits, about 0.53 puts all at 4 bits");
            }
            if (calibrationTexts < 1) {
                throw new IllegalArgumentException("--texts must be at least 1 (found " + calibrationTexts + ")");
            }
            if (heldOutTexts < 0) {
                throw new IllegalArgumentException("--held-out must be 0 or more (found " + heldOutTexts + ")");
            }
            if (maxTokens < 2 || maxTokens > TextTokenizer.MAX_SUPPORTED_TOKENS) {
                throw new IllegalArgumentException("--max-tokens must be in 2.." + TextTokenizer.MAX_SUPPORTED_TOKENS
                        + " (found " + maxTokens + ")");
            }
            if (out == null) {
                throw new IllegalArgumentException("--out DIR is required");
            }
        }
    }

    /** What was written and measured. */
    public record Result(Path modelFile, Path report, double meanCosine, double minCosine, int heldOut,
                         long floatBytes, long quantizedBytes) {
    }

    private TextQuantization() {
    }

    public static Result run(Options o, PrintStream log) throws IOException {
        TextModel spec = TextModel.byName(o.model());
        List<String> texts = o.calibration() == null ? CalibrationTexts.bundled() : CalibrationTexts.read(o.calibration());
        String source = o.calibration() == null ? "bundled " + CalibrationTexts.BUNDLED : o.calibration().toString();
        int nCal = Math.min(o.calibrationTexts(), texts.size());
        List<String> calibration = texts.subList(0, nCal);
        List<String> heldOut = texts.subList(nCal, Math.min(texts.size(), nCal + o.heldOutTexts()));
        log.printf(Locale.ROOT, "quantize %s: %d calibration texts, %d held-out texts from %s%n", spec.modelName(),
                calibration.size(), heldOut.size(), source);
        Files.createDirectories(o.out());
        long t0 = System.nanoTime();
        OnnxBertWeights weights = new OnnxBertWeights(OnnxModel.fromClasspath(spec.onnxResource()), spec.modelName());
        BertConfig c = weights.inferConfig();
        try (TextTokenizer tok = TextTokenizer.load(spec, o.maxTokens());
             Backend backend = new FastCpuBackend(null, o.threads())) {
            Batch cal = Batch.of(tok, calibration);
            CalibrationOptions copts = CalibrationOptions.defaults().withSmoothing(o.smoothing());
            Int8Bert q = BertQuantizer.quantize(weights, c, cal.ids, cal.lengths, cal.rows, cal.seq, backend, copts,
                    log::println);
            MixedPrecision.Plan plan = null;
            if (o.sizeBudget() < 1) {
                plan = MixedPrecision.plan(q, weights, c, o.sizeBudget());
                log.printf(Locale.ROOT, "mixed precision at %.2f of the INT8 layers: bits per layer %s; calibrating"
                        + " again%n", o.sizeBudget(), java.util.Arrays.toString(plan.bits()));
                q = BertQuantizer.quantize(weights, c, cal.ids, cal.lengths, cal.rows, cal.seq, backend, copts,
                        plan.bits(), log::println);
            }
            double calSeconds = (System.nanoTime() - t0) / 1e9;
            Path modelFile = o.out().resolve("model.safetensors");
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("source_model", spec.modelName());
            meta.put("source_weights", spec.mavenCoordinates() + " " + TextModel.WEIGHTS_VERSION);
            meta.put("calibration_source", source);
            meta.put("calibration_texts", Integer.toString(calibration.size()));
            meta.put("max_tokens", Integer.toString(o.maxTokens()));
            meta.put("pooling", spec.defaultPooling().name());
            Int8BertFile.save(q, modelFile, meta);
            log.printf(Locale.ROOT, "wrote %s (%.1f MB) after %.1f s%n", modelFile, Files.size(modelFile) / 1e6,
                    calSeconds);
            Accuracy acc = heldOut.isEmpty() ? null : accuracy(backend, weights, c, q, tok, heldOut,
                    spec.defaultPooling());
            long floatBytes = 4L * floatParameters(c);
            ObjectNode report = report(spec, q, o, source, cal, calibration.size(), acc, floatBytes, calSeconds, plan);
            Path json = o.out().resolve("report.json");
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(json.toFile(), report);
            Files.writeString(o.out().resolve("report.md"), QuantizationReport.markdown(report));
            if (acc != null) {
                log.printf(Locale.ROOT, "held-out accuracy against float: mean cosine %.5f, min %.5f over %d texts%n",
                        acc.mean, acc.min, heldOut.size());
            }
            return new Result(modelFile, json, acc == null ? Double.NaN : acc.mean, acc == null ? Double.NaN : acc.min,
                    heldOut.size(), floatBytes, q.weightBytes());
        }
    }

    static long floatParameters(BertConfig c) {
        long d = c.hidden();
        long f = c.intermediate();
        long emb = (c.vocabSize() + c.maxPositions() + c.typeVocabSize()) * d + 2 * d;
        long layer = 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d;
        return emb + c.layers() * layer;
    }

    /** Padded token ids of some texts. */
    record Batch(int[] ids, int[] lengths, int rows, int seq, long tokens) {
        static Batch of(TextTokenizer tok, List<String> texts) {
            List<int[]> rows = new ArrayList<>();
            int seq = 1;
            long tokens = 0;
            for (String t : texts) {
                Tokenized k = tok.encode(t);
                rows.add(k.ids());
                seq = Math.max(seq, k.length());
                tokens += k.length();
            }
            int[] ids = new int[rows.size() * seq];
            int[] lengths = new int[rows.size()];
            for (int r = 0; r < rows.size(); r++) {
                System.arraycopy(rows.get(r), 0, ids, r * seq, rows.get(r).length);
                lengths[r] = rows.get(r).length;
            }
            return new Batch(ids, lengths, rows.size(), seq, tokens);
        }
    }

    record Accuracy(double mean, double min, double[] layerError) {
    }

    /** Pooled cosine and per-layer relative error of the integer model against float on {@code texts}. */
    static Accuracy accuracy(Backend backend, OnnxBertWeights w, BertConfig c, Int8Bert q, TextTokenizer tok,
                             List<String> texts, PoolingMode pooling) {
        double[] num = new double[c.layers() + 1];
        double[] den = new double[c.layers() + 1];
        double sum = 0;
        double min = 1;
        int d = c.hidden();
        try (BertWeights fw = BertWeights.load(w, c, backend);
             BertEncoder floatEnc = new BertEncoder(backend, c, fw);
             Int8BertEncoder intEnc = new Int8BertEncoder(backend, q)) {
            for (int start = 0; start < texts.size(); start += 16) {
                Batch b = Batch.of(tok, texts.subList(start, Math.min(texts.size(), start + 16)));
                try (Tensor ids = backend.upload(b.ids, b.rows, b.seq); Tensor len = backend.upload(b.lengths, b.rows)) {
                    float[][] fl = new float[c.layers() + 1][];
                    float[] fh = floatEnc.forward(ids, len, (layer, h) -> fl[layer] = h.toFloatArray()).toFloatArray();
                    int[][] il = new int[c.layers() + 1][];
                    intEnc.forwardInteger(ids, len, (layer, h) -> il[layer] = h.toIntArray());
                    for (int layer = 1; layer <= c.layers(); layer++) {
                        for (int r = 0; r < b.rows; r++) {
                            for (int t = 0; t < b.lengths[r]; t++) {
                                for (int j = 0; j < d; j++) {
                                    int i = (r * b.seq + t) * d + j;
                                    double qv = Math.scalb((double) il[layer][i], -IntegerOps.RESIDUAL_BITS);
                                    num[layer] += (fl[layer][i] - qv) * (fl[layer][i] - qv);
                                    den[layer] += (double) fl[layer][i] * fl[layer][i];
                                }
                            }
                        }
                    }
                    int[] ih = il[c.layers()];
                    for (int r = 0; r < b.rows; r++) {
                        double[] pf = pool(fh, null, r, b, d, pooling);
                        double[] pq = pool(null, ih, r, b, d, pooling);
                        double cos = cosine(pf, pq);
                        sum += cos;
                        min = Math.min(min, cos);
                    }
                }
            }
        }
        double[] err = new double[c.layers()];
        for (int layer = 1; layer <= c.layers(); layer++) {
            err[layer - 1] = Math.sqrt(num[layer] / den[layer]);
        }
        return new Accuracy(sum / texts.size(), min, err);
    }

    private static double[] pool(float[] f, int[] q, int r, Batch b, int d, PoolingMode mode) {
        double[] out = new double[d];
        int from = mode == PoolingMode.CLS ? 0 : 0;
        int to = mode == PoolingMode.CLS ? 1 : b.lengths[r];
        for (int t = from; t < to; t++) {
            for (int j = 0; j < d; j++) {
                int i = (r * b.seq + t) * d + j;
                out[j] += f != null ? f[i] : Math.scalb((double) q[i], -IntegerOps.RESIDUAL_BITS);
            }
        }
        return out;
    }

    private static double cosine(double[] a, double[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    private static ObjectNode report(TextModel spec, Int8Bert q, Options o, String source, Batch cal, int calTexts,
                                     Accuracy acc, long floatBytes, double seconds, MixedPrecision.Plan plan) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode r = m.createObjectNode();
        r.put("model", spec.modelName()).put("format", Int8BertFile.FORMAT)
                .put("precision", plan == null ? "int8" : "mixed int4/int8");
        if (plan != null) {
            ObjectNode mp = r.putObject("mixed_precision");
            mp.put("size_budget", o.sizeBudget()).put("int8_layer_bytes", plan.int8Bytes())
                    .put("layer_bytes", q.layerWeightBytes());
        }
        ObjectNode size = r.putObject("size");
        size.put("float32_bytes", floatBytes).put("quantized_bytes", q.weightBytes())
                .put("ratio", (double) floatBytes / q.weightBytes());
        ArrayNode layers = r.putArray("layers");
        ObjectNode emb = layers.addObject();
        emb.put("name", "embeddings").put("weight_bits", 8).put("activation_bits", 8)
                .put("note", "int8 rows, one scale per row; residual stream int32 at 2^-12");
        for (int i = 0; i < q.layers().size(); i++) {
            ObjectNode l = layers.addObject();
            l.put("name", "layer " + i).put("weight_bits", q.weightBits(i)).put("activation_bits", 8)
                    .put("gelu_output_bits", 16).put("attention_probability_bits", 8)
                    .put("weight_bytes", q.weightBits(i) == 4 ? q.int4().get(i).weightBytes()
                            : q.layers().get(i).weightBytes());
            l.put("input_change", q.layerChange()[i]);
            if (plan != null) {
                l.put("importance", plan.importance().get(i).importance())
                        .put("outlier_fraction", plan.importance().get(i).outlierFraction());
            }
            if (acc != null) {
                l.put("hidden_state_relative_error", acc.layerError[i]);
            }
        }
        ObjectNode a = r.putObject("accuracy");
        if (acc == null) {
            a.put("note", "no held-out texts: the calibration file has no texts after the calibration ones");
        } else {
            a.put("held_out_texts", Math.min(o.heldOutTexts(), Integer.MAX_VALUE)).put("pooling",
                    spec.defaultPooling().name()).put("mean_cosine_to_float", acc.mean).put("min_cosine_to_float", acc.min);
        }
        ObjectNode c = r.putObject("calibration");
        c.put("source", source).put("texts", calTexts).put("tokens", cal.tokens).put("max_tokens", o.maxTokens())
                .put("smoothing", o.smoothing()).put("seconds", seconds);
        ArrayNode points = c.putArray("points");
        for (CalibrationPoint p : q.calibration()) {
            points.addObject().put("name", p.name()).put("max", p.max()).put("scale", p.scale())
                    .put("clipped_fraction", p.clippedFraction());
        }
        return r;
    }
}
