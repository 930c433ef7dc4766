package io.inflow.gpu.quant;

/**
 * A linear layer in the integer path: int8 weights {@code [out, in]} (symmetric, one scale per output channel,
 * -127..127) and an int32 bias already at the accumulator's scale ({@code round(b / (inputScale * weightScale[c]))}).
 * {@code weightScale} is kept for requantisation and reports; inference never reads it.
 *
 * <pre>{@code
 * Int8Linear l = Int8Linear.quantize(floatWeight, floatBias, 1536, 384, inputScale);
 * byte w = l.weights()[c * l.in() + k];
 * }</pre>
 */
public record Int8Linear(int out, int in, byte[] weights, int[] bias, float[] weightScale, float inputScale) {

    public Int8Linear {
        if ((long) out * in != weights.length || bias.length != out || weightScale.length != out) {
            throw new IllegalArgumentException("int8 linear [" + out + ", " + in + "]: " + weights.length
                    + " weights, " + bias.length + " biases, " + weightScale.length + " scales");
        }
    }

    /**
     * Quantizes a float layer: per output channel {@code scale = max|w| / 127}, weights rounded to nearest, the
     * bias at {@code inputScale * scale} (null bias means zeros).
     */
    public static Int8Linear quantize(float[] w, float[] b, int out, int in, float inputScale) {
        byte[] q = new byte[out * in];
        int[] bias = new int[out];
        float[] scales = new float[out];
        for (int c = 0; c < out; c++) {
            double max = 0;
            for (int k = 0; k < in; k++) {
                max = Math.max(max, Math.abs(w[c * in + k]));
            }
            double scale = max == 0 ? 1.0 : max / 127.0;
            scales[c] = (float) scale;
            for (int k = 0; k < in; k++) {
                q[c * in + k] = (byte) Math.max(-127, Math.min(127, Math.round(w[c * in + k] / scale)));
            }
            double acc = (double) inputScale * scales[c];
            bias[c] = b == null ? 0 : (int) Math.max(Integer.MIN_VALUE / 2, Math.min(Integer.MAX_VALUE / 2,
                    Math.round(b[c] / acc)));
        }
        return new Int8Linear(out, in, q, bias, scales, inputScale);
    }

    /** The accumulator's scale of channel {@code c}: input scale times weight scale. */
    public double accumulatorScale(int c) {
        return (double) inputScale * weightScale[c];
    }

    /** Requantisation of the accumulators to a per-tensor output scale. */
    public Requant requantTo(double outputScale, Requant.Output output) {
        return requantTo(outputScale, output, 31);
    }

    /**
     * As {@link #requantTo(double, Requant.Output)} with {@code bits}-bit multipliers: 24 for the wide GEMM, whose
     * 64-bit accumulators reach 2^33.
     */
    public Requant requantTo(double outputScale, Requant.Output output, int bits) {
        Dyadic[] d = new Dyadic[out];
        for (int c = 0; c < out; c++) {
            d[c] = Dyadic.of(accumulatorScale(c) / outputScale, bits);
        }
        return Requant.perChannel(d, output);
    }

    /** Requantisation with one output scale per channel. */
    public Requant requantTo(double[] outputScale, Requant.Output output) {
        Dyadic[] d = new Dyadic[out];
        for (int c = 0; c < out; c++) {
            d[c] = Dyadic.of(accumulatorScale(c) / outputScale[c], 31);
        }
        return Requant.perChannel(d, output);
    }

    /** Bytes of the weights plus biases. */
    public long bytes() {
        return weights.length + 4L * bias.length;
    }
}
