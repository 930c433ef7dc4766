package io.inflow.gpu.quant;

/**
 * What calibration saw at one int8 quantization point: the largest magnitude, the chosen scale (the
 * {@code max} or the clipping percentile over 127) and the share of values that saturate at it.
 *
 * <p>{@code "layer 3 gelu: max 11.2, scale 0.0882, clipped 0.0001%"}
 */
public record CalibrationPoint(String name, double max, double scale, double clippedFraction, long values) {

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%s: max %.4g, scale %.4g, clipped %.4f%% of %d", name, max,
                scale, 100 * clippedFraction, values);
    }
}
