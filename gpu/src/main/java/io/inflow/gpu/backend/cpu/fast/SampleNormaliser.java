package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.image.ImagePreprocessConfig;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The last preprocessing step, {@code (sample * rescale - mean[c]) / std[c]} in float32, with the same three IEEE
 * operations in the same order as {@link io.inflow.gpu.image.ImagePreprocessor} (so an equal sample gives an equal
 * float): through a 256-entry table per channel for 8-bit samples, or on a row of resampled samples with the
 * Vector API (after PIL's clamp to 0..255 for bicubic).
 *
 * <p>{@code float v = SampleNormaliser.of(config).table(c)[sample & 0xFF];}
 */
final class SampleNormaliser {
    private static final VectorSpecies<Float> S = VectorMath.S;
    private final float rescale;
    private final float[] mean;
    private final float[] std;
    private final float[][] tables;

    private SampleNormaliser(float rescale, float[] mean, float[] std) {
        this.rescale = rescale;
        this.mean = mean;
        this.std = std;
        this.tables = new float[mean.length][256];
        for (int c = 0; c < mean.length; c++) {
            for (int v = 0; v < 256; v++) {
                tables[c][v] = normalise(v, c);
            }
        }
    }

    static SampleNormaliser of(ImagePreprocessConfig config) {
        return new SampleNormaliser(config.rescale(), config.mean(), config.std());
    }

    /** The normalised value of every 8-bit sample in channel {@code c}. */
    float[] table(int c) {
        return tables[c];
    }

    float normalise(float sample, int c) {
        return (sample * rescale - mean[c]) / std[c];
    }

    /** {@code dst[d + x] = normalise(clamp(src[s + x]))}, {@code x < n}, channel {@code c}; clamp to 0..255 or not. */
    void row(float[] src, int s, float[] dst, int d, int n, int c, boolean clamp) {
        FloatVector r = FloatVector.broadcast(S, rescale);
        FloatVector m = FloatVector.broadcast(S, mean[c]);
        FloatVector sd = FloatVector.broadcast(S, std[c]);
        float lo = clamp ? 0f : Float.NEGATIVE_INFINITY;
        float hi = clamp ? 255f : Float.POSITIVE_INFINITY;
        int x = 0;
        for (int bound = S.loopBound(n); x < bound; x += S.length()) {
            FloatVector v = FloatVector.fromArray(S, src, s + x).max(lo).min(hi);
            v.mul(r).sub(m).div(sd).intoArray(dst, d + x);
        }
        for (; x < n; x++) {
            dst[d + x] = normalise(Math.max(lo, Math.min(hi, src[s + x])), c);
        }
    }
}
