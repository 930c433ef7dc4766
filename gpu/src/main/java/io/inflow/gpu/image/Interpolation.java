package io.inflow.gpu.image;

import java.util.Locale;

/**
 * Resampling filters of {@link Resampler}, with PIL's ({@code Image.resize}) semantics: pixel centres at
 * {@code i + 0.5}, and when shrinking, the filter support widens by the scale factor (antialiasing).
 */
public enum Interpolation {
    /** Nearest neighbour: output pixel {@code i} takes input {@code floor((i + 0.5) * in / out)} (PIL NEAREST,
     *  PyTorch {@code nearest-exact}). Exact: no arithmetic on the samples. */
    NEAREST(0.0),
    /** Triangle filter, support 1 (PIL BILINEAR; for enlarging it equals PyTorch {@code bilinear} with
     *  {@code align_corners=False}; for shrinking it averages like PIL, not like PyTorch without antialias). */
    BILINEAR(1.0),
    /** Keys cubic with a = -0.5, support 2 (PIL BICUBIC); results are clamped to 0..255. */
    BICUBIC(2.0);

    private final double support;

    Interpolation(double support) {
        this.support = support;
    }

    /** Half-width of the filter at scale 1. */
    public double support() {
        return support;
    }

    /** The filter's weight at distance {@code x} (in input pixels at scale 1). */
    double weight(double x) {
        x = Math.abs(x);
        switch (this) {
            case BILINEAR:
                return x < 1.0 ? 1.0 - x : 0.0;
            case BICUBIC: {
                double a = -0.5;
                if (x < 1.0) {
                    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
                }
                if (x < 2.0) {
                    return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
                }
                return 0.0;
            }
            default:
                throw new IllegalStateException("NEAREST has no filter weights");
        }
    }

    /** Parses {@code "bilinear"}, {@code "nearest"}, {@code "bicubic"} (case-insensitive; HF's PIL names too). */
    public static Interpolation parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        switch (n) {
            case "NEAREST":
            case "NEAREST-EXACT":
                return NEAREST;
            case "BILINEAR":
            case "LINEAR":
                return BILINEAR;
            case "BICUBIC":
            case "CUBIC":
                return BICUBIC;
            default:
                throw new IllegalArgumentException("unknown interpolation '" + name + "', expected nearest, bilinear or bicubic");
        }
    }
}
