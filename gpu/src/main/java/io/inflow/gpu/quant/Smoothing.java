package io.inflow.gpu.quant;

/**
 * SmoothQuant-style migration of activation outliers into the next layer's weights, free at run time in the
 * integer path: an int8 activation gets one scale per channel ({@code S * s_j}, folded into the producing kernel's
 * per-channel dyadic) and the consuming weights' column {@code j} is multiplied by {@code s_j} before per-row
 * quantization, so the GEMM still sums one per-tensor scale {@code S}. {@code s_j = sqrt(maxAct_j / maxW_j)}
 * (alpha 0.5) balances the two ranges.
 *
 * <pre>{@code
 * double[] s = Smoothing.factors(columnMax, weights, out, in, 0.5);
 * float[] w2 = Smoothing.scaleColumns(weights, out, in, s);
 * }</pre>
 */
public final class Smoothing {
    private Smoothing() {
    }

    /** Per input channel factors for {@code w [out, in]} given the activations' per-channel maxima. */
    public static double[] factors(double[] actMax, float[] w, int out, int in, double alpha) {
        double[] s = new double[in];
        for (int j = 0; j < in; j++) {
            double wm = 0;
            for (int c = 0; c < out; c++) {
                wm = Math.max(wm, Math.abs(w[c * in + j]));
            }
            double a = Math.max(actMax[j], 1e-5);
            s[j] = wm == 0 ? 1 : Math.pow(a, alpha) / Math.pow(wm, 1 - alpha);
            if (!(s[j] > 0) || !Double.isFinite(s[j])) {
                s[j] = 1;
            }
        }
        return s;
    }

    /** {@code w[c, j] * s[j]}, as a new array. */
    public static float[] scaleColumns(float[] w, int out, int in, double[] s) {
        float[] r = new float[w.length];
        for (int c = 0; c < out; c++) {
            for (int j = 0; j < in; j++) {
                r[c * in + j] = (float) (w[c * in + j] * s[j]);
            }
        }
        return r;
    }

    /** The per-tensor scale after smoothing: {@code max_j(actMax_j / s_j) / 127}. */
    public static double tensorScale(double[] actMax, double[] s) {
        double m = 0;
        for (int j = 0; j < s.length; j++) {
            m = Math.max(m, actMax[j] / s[j]);
        }
        return Math.max(m, 1e-8) / 127.0;
    }

    /**
     * An activation with per-channel maxima {@code actMax} feeding {@code w [out, in]}: its int8 scales per channel,
     * the per-tensor scale of the GEMM input and the consumer's weights smoothed to match ({@code w} itself when
     * {@code alpha} is 0, every channel then at the one tensor scale).
     */
    static Migration migrate(double[] actMax, float[] w, int out, int in, double alpha) {
        double[] s = new double[in];
        java.util.Arrays.fill(s, 1);
        if (alpha > 0) {
            s = factors(actMax, w, out, in, alpha);
        }
        double tensorScale = tensorScale(actMax, s);
        float[] channel = new float[in];
        double max = 0;
        for (int j = 0; j < in; j++) {
            channel[j] = (float) (tensorScale * s[j]);
            max = Math.max(max, actMax[j]);
        }
        return new Migration(alpha > 0 ? scaleColumns(w, out, in, s) : w, channel, tensorScale, max);
    }

    /** What {@link #migrate} decided; {@code max} is the largest activation magnitude seen. */
    record Migration(float[] weights, float[] channelScale, double tensorScale, double max) {
    }
}
