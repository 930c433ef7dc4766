package io.inflow.gpu.image;

/**
 * Separable image resampling, the naive reference (double accumulation, readable): a horizontal pass then a
 * vertical pass, each output sample a normalised weighted sum of input samples, exactly as PIL's
 * {@code ImagingResample} computes it, except that PIL rounds to 8 bits between the passes and at the end (its
 * results can differ by up to one 8-bit step from ours, which stay in float).
 *
 * <p>For output index {@code i} on an axis scaled by {@code s = in / out}: centre {@code c = (i + 0.5) * s},
 * filter scale {@code f = max(s, 1)}, support {@code r = support * f}, inputs {@code j} from
 * {@code max((int) (c - r + 0.5), 0)} to {@code min((int) (c + r + 0.5), in) - 1}, weights
 * {@code filter((j - c + 0.5) / f)}, normalised to sum 1. Nearest takes {@code floor(c)}.
 *
 * <p>{@code
 * float[] out = Resampler.resize(samples, 1, 64, 48, 28, 28, Interpolation.BILINEAR);   // HWC in, HWC out
 * }
 */
public final class Resampler {

    private Resampler() {
    }

    /**
     * Resizes interleaved samples {@code [inH, inW, channels]} to {@code [outH, outW, channels]}.
     *
     * @param src interleaved row-major samples (any range; 0..255 from a decoded image)
     */
    public static float[] resize(float[] src, int channels, int inW, int inH, int outW, int outH,
                                 Interpolation interpolation) {
        if ((long) inW * inH * channels != src.length) {
            throw new IllegalArgumentException("src has " + src.length + " samples, expected " + inH + " x " + inW
                    + " x " + channels);
        }
        if (outW <= 0 || outH <= 0) {
            throw new IllegalArgumentException("output size must be positive (" + outW + " x " + outH + ")");
        }
        if (inW == outW && inH == outH) {
            return src.clone();
        }
        if (interpolation == Interpolation.NEAREST) {
            return nearest(src, channels, inW, inH, outW, outH);
        }
        Coefficients cx = Coefficients.of(inW, outW, interpolation);
        Coefficients cy = Coefficients.of(inH, outH, interpolation);
        // horizontal: [inH, outW, c]
        float[] tmp = new float[inH * outW * channels];
        for (int y = 0; y < inH; y++) {
            for (int x = 0; x < outW; x++) {
                for (int c = 0; c < channels; c++) {
                    double acc = 0.0;
                    for (int k = 0; k < cx.count[x]; k++) {
                        acc += cx.weights[x][k] * src[(y * inW + cx.start[x] + k) * channels + c];
                    }
                    tmp[(y * outW + x) * channels + c] = (float) acc;
                }
            }
        }
        // vertical: [outH, outW, c]
        float[] out = new float[outH * outW * channels];
        for (int y = 0; y < outH; y++) {
            for (int x = 0; x < outW; x++) {
                for (int c = 0; c < channels; c++) {
                    double acc = 0.0;
                    for (int k = 0; k < cy.count[y]; k++) {
                        acc += cy.weights[y][k] * tmp[((cy.start[y] + k) * outW + x) * channels + c];
                    }
                    out[(y * outW + x) * channels + c] = (float) acc;
                }
            }
        }
        if (interpolation == Interpolation.BICUBIC) {
            for (int i = 0; i < out.length; i++) {
                out[i] = Math.max(0f, Math.min(255f, out[i]));   // PIL clips overshoot to the 8-bit range
            }
        }
        return out;
    }

    /** The input index output index {@code i} takes under NEAREST: {@code floor((i + 0.5) * in / out)}. */
    public static int nearestIndex(int i, int in, int out) {
        return Math.min(in - 1, (int) Math.floor((i + 0.5) * in / out));
    }

    private static float[] nearest(float[] src, int channels, int inW, int inH, int outW, int outH) {
        float[] out = new float[outH * outW * channels];
        for (int y = 0; y < outH; y++) {
            int sy = nearestIndex(y, inH, outH);
            for (int x = 0; x < outW; x++) {
                int sx = nearestIndex(x, inW, outW);
                System.arraycopy(src, (sy * inW + sx) * channels, out, (y * outW + x) * channels, channels);
            }
        }
        return out;
    }

    /**
     * Per output index: the first input index, the number of taps and their normalised weights (the formula in the
     * class comment). Public so that optimised twins (the fast CPU backend) take their taps from here rather than
     * repeating the formula.
     *
     * <p>{@code
     * Resampler.Coefficients cx = Resampler.Coefficients.of(640, 341, Interpolation.BICUBIC);
     * double w = cx.weight(0, 0);                 // input cx.start(0) + 0's weight for output 0
     * }
     */
    public static final class Coefficients {
        final int[] start;
        final int[] count;
        final double[][] weights;

        private Coefficients(int out) {
            start = new int[out];
            count = new int[out];
            weights = new double[out][];
        }

        /** Output size. */
        public int size() {
            return start.length;
        }

        /** First input index output {@code i} reads. */
        public int start(int i) {
            return start[i];
        }

        /** Number of inputs output {@code i} reads (its taps). */
        public int count(int i) {
            return count[i];
        }

        /** Normalised weight of input {@code start(i) + k} in output {@code i}. */
        public double weight(int i, int k) {
            return weights[i][k];
        }

        /** The taps of a resize from {@code in} to {@code out} samples with a filter (not NEAREST). */
        public static Coefficients of(int in, int out, Interpolation interpolation) {
            double scale = (double) in / out;
            double filterScale = Math.max(scale, 1.0);
            double support = interpolation.support() * filterScale;
            Coefficients co = new Coefficients(out);
            for (int i = 0; i < out; i++) {
                double centre = (i + 0.5) * scale;
                int lo = Math.max((int) (centre - support + 0.5), 0);
                int hi = Math.min((int) (centre + support + 0.5), in);
                double[] w = new double[Math.max(hi - lo, 0)];
                double sum = 0.0;
                for (int j = lo; j < hi; j++) {
                    double v = interpolation.weight((j - centre + 0.5) / filterScale);
                    w[j - lo] = v;
                    sum += v;
                }
                if (sum != 0.0) {
                    for (int k = 0; k < w.length; k++) {
                        w[k] /= sum;
                    }
                }
                co.start[i] = lo;
                co.count[i] = w.length;
                co.weights[i] = w;
            }
            return co;
        }
    }
}
