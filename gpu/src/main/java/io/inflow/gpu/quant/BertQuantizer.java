package io.inflow.gpu.quant;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.backend.Family;
import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.WeightSource;
import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Post-training static quantization of a float BERT encoder for the integer-only path. Weights: symmetric int8 per
 * output channel (per row for embeddings). Activations: one int8 scale per quantization point, chosen on a
 * calibration batch. Calibration runs the integer model itself, layer by layer: each point is first computed
 * onto a fine INT32 grid (2^-12), measured over the valid tokens ({@link CalibrationOptions}), then computed again
 * into int8 with the chosen scale, so later points see the errors of earlier ones.
 *
 * <pre>{@code
 * Int8Bert q = BertQuantizer.quantize(weights, config, ids, lengths, batch, seq, backend,
 *         CalibrationOptions.defaults(), System.out::println);
 * }</pre>
 */
public final class BertQuantizer {
    private static final double FINE = Math.scalb(1.0, -12);
    private static final double SCORE_UNIT = Math.scalb(1.0, -IntegerOps.FRACTION_BITS);
    private static final double RESIDUAL = Math.scalb(1.0, -IntegerOps.RESIDUAL_BITS);
    private static final double PROB = Math.scalb(1.0, -IntegerOps.PROB_BITS);
    private static final double GELU_PRODUCT = Math.scalb(1.0, -(IntegerOps.FRACTION_BITS + IntegerOps.SIGMOID_BITS));

    private BertQuantizer() {
    }

    /**
     * Quantizes {@code weights} (Hugging Face names) of a model shaped {@code c}, calibrating on int32 token ids
     * {@code [batch, seq]} with {@code lengths}, on {@code backend}'s quantized kernels. {@code progress} gets a line
     * per layer (may be null).
     */
    public static Int8Bert quantize(WeightSource weights, BertConfig c, int[] ids, int[] lengths, int batch, int seq,
                                    Backend backend, CalibrationOptions options, Consumer<String> progress) {
        int[] bits = new int[c.layers()];
        Arrays.fill(bits, 8);
        return quantize(weights, c, ids, lengths, batch, seq, backend, options, bits, progress);
    }

    /**
     * As above with the weight bits of each layer, 8 or 4 ({@link Int4Linear}: group-wise INT4 weights, run as their
     * exact INT8 expansion; activations stay as for INT8). Calibration sees the 4-bit layers' errors.
     */
    public static Int8Bert quantize(WeightSource weights, BertConfig c, int[] ids, int[] lengths, int batch, int seq,
                                    Backend backend, CalibrationOptions options, int[] layerBits,
                                    Consumer<String> progress) {
        backend.require(Family.QUANTIZED);
        if (layerBits.length != c.layers()) {
            throw new IllegalArgumentException(layerBits.length + " layer bit widths for a " + c.layers()
                    + "-layer model");
        }
        for (int b : layerBits) {
            if (b != 4 && b != 8) {
                throw new IllegalArgumentException("layer bits must be 4 or 8 (found " + b + ")");
            }
        }
        if (batch <= 0 || seq <= 0 || ids.length != batch * seq || lengths.length != batch) {
            throw new IllegalArgumentException("calibration batch: " + ids.length + " ids and " + lengths.length
                    + " lengths for [" + batch + ", " + seq + "]; give at least one tokenised text");
        }
        for (int len : lengths) {
            if (len < 1 || len > seq) {
                throw new IllegalArgumentException("calibration length " + len + " outside 1.." + seq);
            }
        }
        Run run = new Run(weights, c, backend, new Observer(backend, lengths, seq, options), batch, seq,
                layerBits.clone());
        try (Tensor idT = backend.upload(ids, batch, seq); Tensor lenT = backend.upload(lengths, batch)) {
            return run.model(idT, lenT, progress == null ? line -> { } : progress);
        } finally {
            run.close();
        }
    }

    /** One calibration: the activations live in backend tensors, freed at the end. */
    private static final class Run implements AutoCloseable {
        final WeightSource w;
        final BertConfig c;
        final Backend backend;
        final QuantizedOps ops;
        final Observer observer;
        final int t;
        final int d;
        final int f;
        final List<Tensor> tensors = new ArrayList<>();
        final List<CalibrationPoint> points = new ArrayList<>();

        final int[] bits;
        final List<Int4BertLayer> int4 = new ArrayList<>();
        final double[] change;
        /** The INT4 weights of the layer being calibrated, in order qkv, attention out, intermediate, output. */
        final List<Int4Linear> current = new ArrayList<>();

        Run(WeightSource w, BertConfig c, Backend backend, Observer observer, int batch, int seq, int[] bits) {
            this.bits = bits;
            this.change = new double[c.layers()];
            this.w = w;
            this.c = c;
            this.backend = backend;
            this.ops = backend.quantized();
            this.observer = observer;
            this.t = batch * seq;
            this.d = c.hidden();
            this.f = c.intermediate();
        }

        Tensor alloc(DType type, int rows, int cols) {
            Tensor x = backend.allocate(type, rows, cols);
            tensors.add(x);
            return x;
        }

        /** A float weight, refused when it holds NaN or infinity (a broken export would quantize to garbage). */
        float[] get(String name, int... shape) {
            float[] v = w.require(name, shape).data();
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new IllegalArgumentException("weight " + name + " of " + w.describe() + " holds " + v[i]
                            + " at index " + i + ": the float model is broken; re-export it before quantizing");
                }
            }
            return v;
        }

        /** QKV weights of the next layer, smoothed by the LayerNorm that feeds them, and their input scale. */
        float[] pendingWeights;
        double pendingScale;

        Int8Bert model(Tensor ids, Tensor lengths, Consumer<String> progress) {
            int batch = ids.dim(0);
            int seq = ids.dim(1);
            Int8Embedding word = Int8Embedding.quantize(get("embeddings.word_embeddings.weight", c.vocabSize(), d),
                    c.vocabSize(), d);
            Int8Embedding pos = Int8Embedding.quantize(get("embeddings.position_embeddings.weight",
                    c.maxPositions(), d), c.maxPositions(), d);
            Int8Embedding type = c.typeVocabSize() == 0 ? null : Int8Embedding.quantize(
                    get("embeddings.token_type_embeddings.weight", c.typeVocabSize(), d), c.typeVocabSize(), d);
            Tensor x = alloc(DType.INT32, t, d);
            Tensor xq = alloc(DType.INT8, t, d);
            ops.embed(ids, word, pos, type, x);
            IntLayerNorm embNorm = layerNorm("embeddings", "embeddings.LayerNorm", x, null, xq, x, qkvWeights(0),
                    3 * d);
            List<Int8BertLayer> layers = new ArrayList<>();
            for (int i = 0; i < c.layers(); i++) {
                long start = System.nanoTime();
                int[] before = backend.downloadInts(x);
                current.clear();
                layers.add(layer(i, x, xq, lengths, batch, seq));
                int4.add(bits[i] == 4 ? new Int4BertLayer(current.get(0), current.get(1), current.get(2),
                        current.get(3)) : null);
                change[i] = 1 - observer.meanTokenCosine(before, backend.downloadInts(x), d);
                progress.accept(String.format(java.util.Locale.ROOT, "calibrated layer %d/%d (%d-bit weights) in"
                        + " %.1f s", i + 1, c.layers(), bits[i], (System.nanoTime() - start) / 1e9));
            }
            return new Int8Bert(c, word, pos, type, embNorm, layers, int4, points, change);
        }

        float[] qkvWeights(int i) {
            String p = "encoder.layer." + i + ".attention.self.";
            return concat(get(p + "query.weight", d, d), get(p + "key.weight", d, d), get(p + "value.weight", d, d));
        }

        /** Layer {@code i}: reads x/xq, leaves the layer's outputs in them. */
        Int8BertLayer layer(int i, Tensor x, Tensor xq, Tensor lengths, int batch, int seq) {
            String p = "encoder.layer." + i + ".";
            String n = "layer " + i + " ";
            float[] qkvB = concat(get(p + "attention.self.query.bias", d), get(p + "attention.self.key.bias", d),
                    get(p + "attention.self.value.bias", d));
            int layerIndex = i;
            Int8Linear qkv = linear(layerIndex, pendingWeights, qkvB, 3 * d, d, pendingScale);
            AttentionCalibration.Result att = AttentionCalibration.run(ops, observer, points, n, qkv, xq, lengths,
                    batch, seq, c.heads(), d, this::alloc);
            Requant qkvOut = att.qkvOut();
            Dyadic score = att.score();
            Requant ctxOut = att.ctxOut();
            CalibrationPoint ctxPoint = att.context();
            Tensor ctx = att.ctx();

            Int8Linear attnOut = linear(layerIndex, get(p + "attention.output.dense.weight", d, d),
                    get(p + "attention.output.dense.bias", d), d, d, ctxPoint.scale());
            Requant attnToRes = attnOut.requantTo(RESIDUAL, Requant.Output.INT32);
            Tensor acc = alloc(DType.INT32, t, d);
            ops.linear(ctx, attnOut, attnToRes, acc);
            Tensor mid = alloc(DType.INT32, t, d);
            Tensor midq = alloc(DType.INT8, t, d);
            IntLayerNorm attnNorm = layerNorm(n + "attention norm", p + "attention.output.LayerNorm", acc, x, midq,
                    mid, get(p + "intermediate.dense.weight", f, d), f);

            Int8Linear inter = linear(layerIndex, pendingWeights, get(p + "intermediate.dense.bias", f), f, d,
                    pendingScale);
            Requant toGelu = inter.requantTo(SCORE_UNIT, Requant.Output.INT32);
            Tensor ffn = alloc(DType.INT32, t, f);
            ops.linear(midq, inter, toGelu, ffn);
            Tensor geluFine = alloc(DType.INT32, t, f);
            ops.gelu(ffn, Requant.uniform(Dyadic.of(GELU_PRODUCT / FINE, 24), f, Requant.Output.INT32), geluFine);
            CalibrationPoint geluPoint = observer.point16(n + "gelu", geluFine, 0, f, FINE);
            points.add(geluPoint);
            Requant geluOut = Requant.uniform(Dyadic.of(GELU_PRODUCT / geluPoint.scale(), 24), f,
                    Requant.Output.INT16);
            Tensor ffnq = alloc(DType.INT8, t, 2 * f);
            ops.gelu(ffn, geluOut, ffnq);

            Int8Linear out = linear(layerIndex, get(p + "output.dense.weight", d, f), get(p + "output.dense.bias", d),
                    d, f, geluPoint.scale());
            Requant outToRes = out.requantTo(RESIDUAL, Requant.Output.INT32, 24);
            ops.linearWide(ffnq, out, outToRes, acc);
            boolean last = i == c.layers() - 1;
            IntLayerNorm outNorm = layerNorm(n + "output norm", p + "output.LayerNorm", acc, mid, xq, x,
                    last ? null : qkvWeights(i + 1), 3 * d);
            freeAllBut(x, xq);
            return new Int8BertLayer(qkv, qkvOut, score, ctxOut, attnOut, attnToRes, attnNorm, inter, toGelu, geluOut,
                    out, outToRes, outNorm);
        }

        /** A GEMM's weights at the layer's bits: INT8, or INT4 (kept in {@link #current}) run as its INT8 form. */
        Int8Linear linear(int layer, float[] weight, float[] bias, int out, int in, double inputScale) {
            if (bits[layer] == 4) {
                Int4Linear q4 = Int4Linear.quantize(weight, bias, out, in, (float) inputScale);
                current.add(q4);
                return q4.toInt8();
            }
            return Int8Linear.quantize(weight, bias, out, in, (float) inputScale);
        }

        /**
         * Calibrates one LayerNorm's int8 output on its residual-stream output (per channel, smoothed into
         * {@code consumer [consumerOut, d]}, or one scale when there is no consumer), runs it for real, and leaves
         * the consumer's smoothed weights and input scale in {@link #pendingWeights} / {@link #pendingScale}.
         */
        IntLayerNorm layerNorm(String name, String prefix, Tensor in, Tensor residual, Tensor int8Out,
                               Tensor residualOut, float[] consumer, int consumerOut) {
            float[] gamma = get(prefix + ".weight", d);
            float[] beta = get(prefix + ".bias", d);
            float[] ones = new float[d];
            Arrays.fill(ones, 1f);
            Tensor probe = alloc(DType.INT32, t, d);
            ops.layerNorm(in, residual, IntLayerNorm.of(gamma, beta, ones), null, probe);
            double[] colMax = observer.columnMax(probe, RESIDUAL);
            float[] scales;
            if (consumer == null) {
                CalibrationPoint cp = observer.point(name, probe, 0, d, RESIDUAL);
                points.add(cp);
                scales = new float[d];
                Arrays.fill(scales, (float) cp.scale());
            } else {
                Smoothing.Migration m = migrate(name, colMax, consumer, consumerOut, d);
                scales = m.channelScale();
                pendingWeights = m.weights();
                pendingScale = m.tensorScale();
            }
            IntLayerNorm ln = IntLayerNorm.of(gamma, beta, scales);
            ops.layerNorm(in, residual, ln, int8Out, residualOut);
            return ln;
        }

        /** Per-channel int8 scales for an activation with per-channel maxima feeding {@code w [out, in]}. */
        Smoothing.Migration migrate(String name, double[] colMax, float[] w, int out, int in) {
            Smoothing.Migration m = Smoothing.migrate(colMax, w, out, in, observer.options().smoothing());
            points.add(new CalibrationPoint(name, m.max(), m.tensorScale(), 0, in));
            return m;
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

    static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
