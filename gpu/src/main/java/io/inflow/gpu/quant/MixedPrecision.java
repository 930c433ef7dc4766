package io.inflow.gpu.quant;

import io.inflow.gpu.model.BertConfig;
import io.inflow.gpu.model.WeightSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Layer-wise mixed precision (after "layer-wise quantization beyond integer bit levels"): important layers keep
 * 8-bit weights, the others drop to 4 bits ({@link Int4Linear}) until the model fits a size budget. Importance
 * combines the paper's two measures, each turned into a rank: how much a layer changes its input (1 - mean token
 * cosine between its input and output hidden states on the calibration texts, from an all-INT8 calibration: more
 * change = more important) and how many of its weights are outliers (share of |w| above 6x the layer's mean |w|:
 * fewer = more important, the layer's information is spread over all weights).
 *
 * <pre>{@code
 * Int8Bert all8 = BertQuantizer.quantize(w, c, ids, lengths, b, s, backend, opts, null);
 * MixedPrecision.Plan plan = MixedPrecision.plan(all8, w, c, 0.75);      // 75% of the INT8 size
 * Int8Bert mixed = BertQuantizer.quantize(w, c, ids, lengths, b, s, backend, opts, plan.bits(), null);
 * }</pre>
 */
public final class MixedPrecision {
    /** An outlier weight: above this many times the layer's mean magnitude. */
    static final double OUTLIER = 6.0;

    /**
     * @param inputChange     1 - mean token cosine between the layer's input and output
     * @param outlierFraction share of the layer's weights above {@link #OUTLIER} x mean |w|
     * @param importance      0..1, the mean of the two ranks (1 = most important)
     */
    public record LayerImportance(int layer, double inputChange, double outlierFraction, double importance) {
    }

    /** Bits per layer, why, and the sizes of the transformer layers' weights (embeddings stay INT8, not counted). */
    public record Plan(int[] bits, List<LayerImportance> importance, long budgetBytes, long bytes, long int8Bytes) {
    }

    private MixedPrecision() {
    }

    public static List<LayerImportance> importance(Int8Bert all8, WeightSource w, BertConfig c) {
        int n = c.layers();
        double[] outliers = new double[n];
        for (int i = 0; i < n; i++) {
            outliers[i] = outlierFraction(w, c, i);
        }
        double[] change = all8.layerChange();
        double[] changeRank = ranks(change, false);      // most change -> 1
        double[] outlierRank = ranks(outliers, true);     // fewest outliers -> 1
        List<LayerImportance> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new LayerImportance(i, change[i], outliers[i], (changeRank[i] + outlierRank[i]) / 2));
        }
        return out;
    }

    /**
     * The least important layers go to 4 bits, one by one, until the transformer layers' weight bytes are at most
     * {@code budget} times their all-INT8 size (1.0: all INT8; about 0.53: all INT4). The embedding tables are a
     * lookup, not a GEMM, and stay INT8 outside the budget.
     */
    public static Plan plan(Int8Bert all8, WeightSource w, BertConfig c, double budget) {
        return plan(all8, importance(all8, w, c), budget, false);
    }

    /**
     * As {@link #plan(Int8Bert, WeightSource, BertConfig, double)} with the importance given; {@code reversed} drops
     * the most important layers first (the control that shows the ordering matters).
     */
    public static Plan plan(Int8Bert all8, List<LayerImportance> importance, double budget, boolean reversed) {
        if (!(budget > 0 && budget <= 1)) {
            throw new IllegalArgumentException("size budget must be in (0, 1] of the INT8 size (found " + budget + ")");
        }
        int n = importance.size();
        int[] bits = new int[n];
        Arrays.fill(bits, 8);
        long int8Bytes = all8.layerWeightBytes();
        long limit = (long) Math.floor(budget * int8Bytes);
        long bytes = int8Bytes;
        List<LayerImportance> order = new ArrayList<>(importance);
        Comparator<LayerImportance> byImportance = Comparator.comparingDouble(LayerImportance::importance)
                .thenComparingInt(LayerImportance::layer);
        order.sort(reversed ? byImportance.reversed() : byImportance);
        for (LayerImportance li : order) {
            if (bytes <= limit) {
                break;
            }
            bits[li.layer()] = 4;
            bytes += int4Bytes(all8.layers().get(li.layer())) - all8.layers().get(li.layer()).weightBytes();
        }
        return new Plan(bits, List.copyOf(importance), limit, bytes, int8Bytes);
    }

    static long int4Bytes(Int8BertLayer l) {
        return bytes4(l.qkv()) + bytes4(l.attentionOut()) + bytes4(l.intermediate()) + bytes4(l.output());
    }

    private static long bytes4(Int8Linear l) {
        return ((long) l.out() * l.in() + 1) / 2 + (long) l.out() * Int4Linear.groups(l.in()) + 4L * l.out();
    }

    static double outlierFraction(WeightSource w, BertConfig c, int layer) {
        String p = "encoder.layer." + layer + ".";
        int d = c.hidden();
        int f = c.intermediate();
        List<float[]> mats = List.of(w.require(p + "attention.self.query.weight", d, d).data(),
                w.require(p + "attention.self.key.weight", d, d).data(),
                w.require(p + "attention.self.value.weight", d, d).data(),
                w.require(p + "attention.output.dense.weight", d, d).data(),
                w.require(p + "intermediate.dense.weight", f, d).data(),
                w.require(p + "output.dense.weight", d, f).data());
        double sum = 0;
        long count = 0;
        for (float[] m : mats) {
            for (float v : m) {
                sum += Math.abs(v);
            }
            count += m.length;
        }
        double limit = OUTLIER * sum / count;
        long above = 0;
        for (float[] m : mats) {
            for (float v : m) {
                above += Math.abs(v) > limit ? 1 : 0;
            }
        }
        return (double) above / count;
    }

    /** Normalised ranks in (0, 1]: 1 for the largest value ({@code ascending} false) or the smallest (true). */
    static double[] ranks(double[] v, boolean ascending) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, Comparator.comparingDouble(i -> ascending ? -v[i] : v[i]));
        double[] r = new double[v.length];
        for (int k = 0; k < idx.length; k++) {
            r[idx[k]] = (k + 1.0) / v.length;
        }
        return r;
    }
}
