package io.inflow.gpu.quant;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.BackendKind;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.encoder.vit.VitConfig;
import io.inflow.gpu.encoder.vit.VitLayout;
import io.inflow.gpu.model.WeightSource;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Post-training static quantization of a float vision transformer (pre-LN, Hugging Face ViT or CLIP vision names)
 * for the integer-only path, the image counterpart of {@link BertQuantizer}. Weights: symmetric int8 per output
 * channel. Activations: one int8 scale per quantization point, chosen on a batch of calibration images by running
 * the integer model itself, layer by layer: each point is first computed onto a fine INT32 grid (2^-12) and
 * measured, then computed again into int8 with the chosen scale, so later points see the errors of earlier ones.
 *
 * <p>The input patches get one per-tensor scale (the largest magnitude, or the {@link CalibrationOptions}
 * percentile, over 127). The int8 outputs of the LayerNorms get per-channel scales with SmoothQuant migration into
 * the GEMM they feed (QKV, fc1, the classifier); GELU outputs are 16-bit (two int8 planes, a wide GEMM). The
 * residual stream is INT32 at 2^-12 throughout: attention-out and fc2 are requantised onto it and added with
 * {@link QuantizedOps#add}; the class token and position embeddings are rounded onto it directly.
 *
 * <pre>{@code
 * try (SafetensorsWeights w = SafetensorsWeights.open(modelDir);
 *      Tensor calib = backend.upload(pixels, 256, 1, 28, 28)) {     // preprocessed float32 [n, c, h, w]
 *     Int8Vit q = VitQuantizer.quantize(w, VitConfig.read(modelDir.resolve("config.json")), calib, backend,
 *             CalibrationOptions.defaults(), System.out::println);
 * }
 * }</pre>
 */
public final class VitQuantizer {
    private static final double FINE = Math.scalb(1.0, -12);
    private static final double SCORE_UNIT = Math.scalb(1.0, -IntegerOps.FRACTION_BITS);
    private static final double RESIDUAL = Math.scalb(1.0, -IntegerOps.RESIDUAL_BITS);
    private static final double PROB = Math.scalb(1.0, -IntegerOps.PROB_BITS);
    private static final double GELU_PRODUCT = Math.scalb(1.0, -(IntegerOps.FRACTION_BITS + IntegerOps.SIGMOID_BITS));
    private static final double LOGIT = Math.scalb(1.0, -Int8Vit.LOGIT_BITS);

    private VitQuantizer() {
    }

    /**
     * Quantizes {@code weights} (Hugging Face names of {@code c}'s layout) calibrating on {@code pixels}, preprocessed
     * FLOAT32 {@code [n, c, h, w]} (backend or host memory), on {@code backend}'s quantized and image kernels.
     * {@code progress} gets a line per layer (may be null).
     */
    public static Int8Vit quantize(WeightSource weights, VitConfig c, Tensor pixels, Backend backend,
                                   CalibrationOptions options, Consumer<String> progress) {
        backend.require(Family.QUANTIZED);
        backend.require(Family.IMAGE);
        Int8VitEncoder.checkPixels(c, pixels);
        try (Run run = new Run(weights, c, backend, options, pixels.dim(0))) {
            return run.model(pixels, progress == null ? line -> { } : progress);
        }
    }

    /** Tensor names of the two layouts (as {@code VitLayout} spells them for the float loader). */
    private record Names(VitLayout layout) {
        boolean vit() {
            return layout == VitLayout.HF_VIT;
        }

        String classToken() {
            return vit() ? "vit.embeddings.cls_token" : "vision_model.embeddings.class_embedding";
        }

        String positions() {
            return vit() ? "vit.embeddings.position_embeddings" : "vision_model.embeddings.position_embedding.weight";
        }

        String patch() {
            return vit() ? "vit.embeddings.patch_embeddings.projection" : "vision_model.embeddings.patch_embedding";
        }

        String preNorm() {
            return vit() ? null : "vision_model.pre_layrnorm";
        }

        String finalNorm() {
            return vit() ? "vit.layernorm" : "vision_model.post_layernorm";
        }

        String layer(int i, String vitName, String clipName) {
            return vit() ? "vit.encoder.layer." + i + "." + vitName : "vision_model.encoder.layers." + i + "." + clipName;
        }

        String norm1(int i) {
            return layer(i, "layernorm_before", "layer_norm1");
        }

        String norm2(int i) {
            return layer(i, "layernorm_after", "layer_norm2");
        }

        String query(int i) {
            return layer(i, "attention.attention.query", "self_attn.q_proj");
        }

        String key(int i) {
            return layer(i, "attention.attention.key", "self_attn.k_proj");
        }

        String value(int i) {
            return layer(i, "attention.attention.value", "self_attn.v_proj");
        }

        String attentionOut(int i) {
            return layer(i, "attention.output.dense", "self_attn.out_proj");
        }

        String fc1(int i) {
            return layer(i, "intermediate.dense", "mlp.fc1");
        }

        String fc2(int i) {
            return layer(i, "output.dense", "mlp.fc2");
        }
    }

    /** One calibration: the activations live in backend tensors, freed at the end. */
    private static final class Run implements AutoCloseable {
        final WeightSource w;
        final VitConfig c;
        final Names names;
        final Backend backend;
        final QuantizedOps ops;
        final CalibrationOptions options;
        /** Every token of every image is valid. */
        final Observer tokens;
        /** Only the class token (row 0 of each image) counts. */
        final Observer classTokens;
        final int b;
        final int s;
        final int t;
        final int d;
        final int f;
        final List<Tensor> tensors = new ArrayList<>();
        final List<CalibrationPoint> points = new ArrayList<>();
        /** Weights of the GEMM after the last calibrated LayerNorm, smoothed to match, and its input scale. */
        float[] pendingWeights;
        double pendingScale;

        Run(WeightSource w, VitConfig c, Backend backend, CalibrationOptions options, int images) {
            this.w = w;
            this.c = c;
            this.names = new Names(c.layout());
            this.backend = backend;
            this.ops = backend.quantized();
            this.options = options;
            this.b = images;
            this.s = c.tokens();
            this.t = images * s;
            this.d = c.hidden();
            this.f = c.intermediate();
            int[] all = new int[images];
            Arrays.fill(all, s);
            this.tokens = new Observer(backend, all, s, options);
            int[] first = new int[images];
            Arrays.fill(first, 1);
            this.classTokens = new Observer(backend, first, 1, options);
        }

        Tensor alloc(DType type, int... shape) {
            Tensor x = backend.allocate(type, shape);
            tensors.add(x);
            return x;
        }

        float[] get(String name, int... shape) {
            return w.require(name, shape).data();
        }

        Int8Vit model(Tensor pixels, Consumer<String> progress) {
            long start = System.nanoTime();
            int np = c.patches();
            int p = c.patchSize();
            int k = c.channels() * p * p;
            if (pixels.location() == Tensor.Location.HOST && backend.kind() == BackendKind.CUDA) {
                Tensor onDevice = alloc(DType.FLOAT32, pixels.shape());
                backend.copy(pixels, onDevice);
                pixels = onDevice;
            }
            Tensor patches = alloc(DType.FLOAT32, b * np, k);
            backend.image().patchify(pixels, p, patches);
            CalibrationPoint in = inputPoint(backend.download(patches));
            points.add(in);
            float inputScale = (float) in.scale();
            Tensor pq = alloc(DType.INT8, b * np, k);
            ops.quantize(patches, inputScale, pq);

            float[] patchW = get(names.patch() + ".weight", d, c.channels(), p, p);
            float[] patchB = names.vit() ? get(names.patch() + ".bias", d) : null;
            Int8Linear patch = Int8Linear.quantize(patchW, patchB, d, k, inputScale);
            Requant patchToRes = patch.requantTo(RESIDUAL, Requant.Output.INT32);
            Tensor emb = alloc(DType.INT32, b * np, d);
            ops.linear(pq, patch, patchToRes, emb);

            float[] cls = names.vit() ? get(names.classToken(), 1, 1, d) : get(names.classToken(), d);
            float[] pos = names.vit() ? get(names.positions(), 1, s, d) : get(names.positions(), s, d);
            int[] cls0 = new int[d];
            for (int j = 0; j < d; j++) {
                cls0[j] = toResidual((double) cls[j] + pos[j]);     // as the float code: class token + position 0
            }
            int[] patchPos = new int[np * d];
            for (int i = 0; i < patchPos.length; i++) {
                patchPos[i] = toResidual(pos[d + i]);
            }
            Tensor x = alloc(DType.INT32, t, d);
            Tensor clsT = backend.upload(cls0, 1, d);
            tensors.add(clsT);
            Tensor posT = backend.upload(patchPos, np, d);
            tensors.add(posT);
            Int8VitEncoder.assemble(backend, ops, emb, clsT, posT, x, b, np, d);
            IntLayerNorm preNorm = null;
            if (names.preNorm() != null) {
                preNorm = IntLayerNorm.of(get(names.preNorm() + ".weight", d), get(names.preNorm() + ".bias", d),
                        ones(d));
                ops.layerNorm(x, null, preNorm, null, x);
            }
            progress.accept(String.format(Locale.ROOT, "calibrated the patch embedding (input scale %.5g) in %.1f s",
                    inputScale, (System.nanoTime() - start) / 1e9));
            freeAllBut(x);

            Tensor lengths = alloc(DType.INT32, b);
            int[] full = new int[b];
            Arrays.fill(full, s);
            backend.write(lengths, full);
            List<Int8VitLayer> layers = new ArrayList<>();
            for (int i = 0; i < c.layers(); i++) {
                long t0 = System.nanoTime();
                layers.add(layer(i, x, lengths));
                freeAllBut(x, lengths);
                progress.accept(String.format(Locale.ROOT, "calibrated layer %d/%d in %.1f s", i + 1, c.layers(),
                        (System.nanoTime() - t0) / 1e9));
            }

            Tensor clsX = alloc(DType.INT32, b, d);
            Int8VitEncoder.gatherClassTokens(backend, x, clsX, b, s, d);
            float[] classifierW = null;
            int labels = c.numLabels();
            boolean present = w.find("classifier.weight").isPresent();
            if (c.classifier() || (labels > 0 && present)) {
                classifierW = get("classifier.weight", labels, d);
            }
            Tensor clsq = alloc(DType.INT8, b, d);
            Tensor features = alloc(DType.INT32, b, d);
            IntLayerNorm finalNorm = layerNorm("final norm", names.finalNorm(), clsX, classTokens, clsq, features,
                    classifierW, labels);
            Int8Linear classifier = null;
            Requant toLogits = null;
            if (classifierW != null) {
                classifier = Int8Linear.quantize(pendingWeights, get("classifier.bias", labels), labels, d,
                        (float) pendingScale);
                toLogits = classifier.requantTo(LOGIT, Requant.Output.INT32);
            }
            return new Int8Vit(c, inputScale, patch, patchToRes, cls0, patchPos, preNorm, layers, finalNorm,
                    classifier, toLogits, points);
        }

        /** The input scale: largest magnitude (or the percentile) of the float patches over 127. */
        CalibrationPoint inputPoint(float[] v) {
            float[] mags = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                mags[i] = Math.abs(v[i]);
            }
            Arrays.sort(mags);
            double max = mags.length == 0 ? 0 : mags[mags.length - 1];
            double clip = max;
            if (options.percentile() < 100 && mags.length > 0) {
                int idx = (int) Math.min(mags.length - 1L, Math.round(options.percentile() / 100 * (mags.length - 1)));
                clip = mags[idx];
            }
            float scale = (float) (Math.max(clip, 1e-6) / 127);
            long above = 0;
            for (int i = mags.length - 1; i >= 0 && mags[i] > clip; i--) {
                above++;
            }
            return new CalibrationPoint("input patches", max, scale, mags.length == 0 ? 0 : (double) above / mags.length,
                    mags.length);
        }

        float[] qkvWeights(int i) {
            return BertQuantizer.concat(get(names.query(i) + ".weight", d, d), get(names.key(i) + ".weight", d, d),
                    get(names.value(i) + ".weight", d, d));
        }

        /** Layer {@code i}: reads and updates the residual stream {@code x}. */
        Int8VitLayer layer(int i, Tensor x, Tensor lengths) {
            String n = "layer " + i + " ";
            Tensor hq = alloc(DType.INT8, t, d);
            IntLayerNorm norm1 = layerNorm(n + "norm1", names.norm1(i), x, tokens, hq, null, qkvWeights(i), 3 * d);
            float[] qkvB = BertQuantizer.concat(get(names.query(i) + ".bias", d), get(names.key(i) + ".bias", d),
                    get(names.value(i) + ".bias", d));
            Int8Linear qkv = Int8Linear.quantize(pendingWeights, qkvB, 3 * d, d, (float) pendingScale);
            AttentionCalibration.Result att = AttentionCalibration.run(ops, tokens, points, n, qkv, hq, lengths, b,
                    s, c.heads(), d, this::alloc);
            Requant qkvOut = att.qkvOut();
            Dyadic score = att.score();
            Requant ctxOut = att.ctxOut();
            CalibrationPoint ctxPoint = att.context();
            Tensor ctx = att.ctx();

            Int8Linear attnOut = Int8Linear.quantize(get(names.attentionOut(i) + ".weight", d, d),
                    get(names.attentionOut(i) + ".bias", d), d, d, (float) ctxPoint.scale());
            Requant attnToRes = attnOut.requantTo(RESIDUAL, Requant.Output.INT32);
            Tensor acc = alloc(DType.INT32, t, d);
            ops.linear(ctx, attnOut, attnToRes, acc);
            ops.add(x, acc, x);

            IntLayerNorm norm2 = layerNorm(n + "norm2", names.norm2(i), x, tokens, hq, null,
                    get(names.fc1(i) + ".weight", f, d), f);
            Int8Linear fc1 = Int8Linear.quantize(pendingWeights, get(names.fc1(i) + ".bias", f), f, d,
                    (float) pendingScale);
            Requant toGelu = fc1.requantTo(SCORE_UNIT, Requant.Output.INT32);
            Tensor ffn = alloc(DType.INT32, t, f);
            ops.linear(hq, fc1, toGelu, ffn);
            Tensor geluFine = alloc(DType.INT32, t, f);
            ops.gelu(ffn, Requant.uniform(Dyadic.of(GELU_PRODUCT / FINE, 24), f, Requant.Output.INT32), geluFine);
            CalibrationPoint geluPoint = tokens.point16(n + "gelu", geluFine, 0, f, FINE);
            points.add(geluPoint);
            Requant geluOut = Requant.uniform(Dyadic.of(GELU_PRODUCT / geluPoint.scale(), 24), f,
                    Requant.Output.INT16);
            Tensor ffnq = alloc(DType.INT8, t, 2 * f);
            ops.gelu(ffn, geluOut, ffnq);

            Int8Linear fc2 = Int8Linear.quantize(get(names.fc2(i) + ".weight", d, f), get(names.fc2(i) + ".bias", d),
                    d, f, (float) geluPoint.scale());
            Requant fc2ToRes = fc2.requantTo(RESIDUAL, Requant.Output.INT32, 24);
            ops.linearWide(ffnq, fc2, fc2ToRes, acc);
            ops.add(x, acc, x);
            return new Int8VitLayer(norm1, qkv, qkvOut, score, ctxOut, attnOut, attnToRes, norm2, fc1, toGelu,
                    geluOut, fc2, fc2ToRes);
        }

        /**
         * Calibrates one pre-LN LayerNorm's int8 output on its real-valued output (per channel, smoothed into
         * {@code consumer [consumerOut, d]}, or one scale when there is no consumer), runs it for real into
         * {@code int8Out} (and {@code residualOut}, may be null), and leaves the consumer's smoothed weights and input
         * scale in {@link #pendingWeights} / {@link #pendingScale}.
         */
        IntLayerNorm layerNorm(String name, String prefix, Tensor in, Observer observer, Tensor int8Out,
                               Tensor residualOut, float[] consumer, int consumerOut) {
            float[] gamma = get(prefix + ".weight", d);
            float[] beta = get(prefix + ".bias", d);
            Tensor probe = alloc(DType.INT32, in.dim(0), d);
            ops.layerNorm(in, null, IntLayerNorm.of(gamma, beta, ones(d)), null, probe);
            float[] scales;
            if (consumer == null) {
                CalibrationPoint cp = observer.point(name, probe, 0, d, RESIDUAL);
                points.add(cp);
                scales = new float[d];
                Arrays.fill(scales, (float) cp.scale());
            } else {
                Smoothing.Migration m = Smoothing.migrate(observer.columnMax(probe, RESIDUAL), consumer, consumerOut,
                        d, options.smoothing());
                scales = m.channelScale();
                points.add(new CalibrationPoint(name, m.max(), m.tensorScale(), 0, d));
                pendingWeights = m.weights();
                pendingScale = m.tensorScale();
            }
            IntLayerNorm ln = IntLayerNorm.of(gamma, beta, scales);
            ops.layerNorm(in, null, ln, int8Out, residualOut);
            return ln;
        }

        void freeAllBut(Tensor... keep) {
            List<Tensor> kept = new ArrayList<>(Arrays.asList(keep));
            for (Tensor x : tensors) {
                if (!kept.contains(x)) {
                    x.close();
                }
            }
            tensors.retainAll(kept);
        }

        @Override
        public void close() {
            tensors.forEach(Tensor::close);
            tensors.clear();
        }
    }

    /** {@code v} rounded onto the residual stream (2^-12), saturated to int32. */
    static int toResidual(double v) {
        return IntegerOps.clampInt32(Math.round(v / RESIDUAL));
    }

    static float[] ones(int n) {
        float[] f = new float[n];
        Arrays.fill(f, 1f);
        return f;
    }
}
