package io.inflow.gpu.quant;

/**
 * INT4 weight-only quantization of a linear layer with group-wise scales (groups of {@link #GROUP} along the
 * input), in two levels so the integer path stays integer: each output channel has a scale {@code S_c}
 * ({@code max|w_c| / (7 * 15)}), each group a 4-bit multiplier {@code m_g} in 1..15 (the one with the least squared
 * error, at most the group's range over {@code 7 S_c} rounded up: clipping the largest weights when that pays),
 * each weight a nibble {@code q} in -7..7 with {@code w ~ q * m_g * S_c}. The product
 * {@code q * m_g} lies in -105..105, so {@link #toInt8()} expands a layer exactly into an {@link Int8Linear} whose
 * weights are those products and whose channel scale is {@code S_c}: every INT8 kernel runs INT4 layers as they are,
 * and a memory-bound kernel can read the packed nibbles (half the bytes) and expand them in registers.
 *
 * <pre>{@code
 * Int4Linear w4 = Int4Linear.quantize(weight, bias, out, in, inputScale);
 * Int8Linear runnable = w4.toInt8();          // exact expansion, same outputs on every backend
 * }</pre>
 *
 * @param packed      two nibbles per byte, row-major {@code [out, in]}, low nibble first, two's complement
 * @param multipliers {@code [out, groups]} group multipliers 1..15
 */
public record Int4Linear(int out, int in, byte[] packed, byte[] multipliers, int[] bias, float[] channelScale,
                         float inputScale) {
    /** Weights per group scale, along the input dimension. */
    public static final int GROUP = 128;
    static final int LEVELS = 7;
    static final int MULTIPLIERS = 15;

    public Int4Linear {
        if (packed.length != ((long) out * in + 1) / 2 || multipliers.length != out * groups(in)
                || bias.length != out || channelScale.length != out) {
            throw new IllegalArgumentException("int4 linear [" + out + ", " + in + "]: " + packed.length
                    + " packed bytes, " + multipliers.length + " group multipliers, " + bias.length + " biases");
        }
    }

    public static int groups(int in) {
        return (in + GROUP - 1) / GROUP;
    }

    /** Quantizes a float layer {@code w [out, in]} (bias may be null) for inputs at {@code inputScale}. */
    public static Int4Linear quantize(float[] w, float[] b, int out, int in, float inputScale) {
        int groups = groups(in);
        byte[] packed = new byte[(int) (((long) out * in + 1) / 2)];
        byte[] mult = new byte[out * groups];
        int[] bias = new int[out];
        float[] scale = new float[out];
        for (int c = 0; c < out; c++) {
            double max = 0;
            for (int k = 0; k < in; k++) {
                max = Math.max(max, Math.abs(w[c * in + k]));
            }
            double s = max == 0 ? 1.0 : max / (LEVELS * MULTIPLIERS);
            scale[c] = (float) s;
            for (int g = 0; g < groups; g++) {
                double gmax = 0;
                for (int k = g * GROUP; k < Math.min(in, (g + 1) * GROUP); k++) {
                    gmax = Math.max(gmax, Math.abs(w[c * in + k]));
                }
                int top = (int) Math.max(1, Math.min(MULTIPLIERS, Math.ceil(gmax / (LEVELS * scale[c]) - 1e-9)));
                int m = bestMultiplier(w, c * in + g * GROUP, Math.min(in, (g + 1) * GROUP) - g * GROUP, scale[c], top);
                mult[c * groups + g] = (byte) m;
                for (int k = g * GROUP; k < Math.min(in, (g + 1) * GROUP); k++) {
                    int q = (int) Math.max(-LEVELS, Math.min(LEVELS, Math.round(w[c * in + k] / (m * (double) scale[c]))));
                    set(packed, c * in + k, q);
                }
            }
            double acc = (double) inputScale * scale[c];
            bias[c] = b == null ? 0 : (int) Math.max(Integer.MIN_VALUE / 2, Math.min(Integer.MAX_VALUE / 2,
                    Math.round(b[c] / acc)));
        }
        return new Int4Linear(out, in, packed, mult, bias, scale, inputScale);
    }

    /**
     * The group multiplier (1..{@code top}) with the least squared error over the group: a smaller one clips the
     * group's largest weights to gain resolution for all the others (for Gaussian weights the best 4-bit range is
     * well inside the maximum).
     */
    static int bestMultiplier(float[] w, int from, int n, double channelScale, int top) {
        int best = top;
        double bestErr = Double.MAX_VALUE;
        for (int m = top; m >= 1; m--) {
            double step = m * channelScale;
            double err = 0;
            for (int k = 0; k < n; k++) {
                double q = Math.max(-LEVELS, Math.min(LEVELS, Math.round(w[from + k] / step)));
                double e = w[from + k] - q * step;
                err += e * e;
            }
            if (err < bestErr) {
                bestErr = err;
                best = m;
            }
        }
        return best;
    }

    /** The nibble at flat index {@code i}, -8..7. */
    public static int nibble(byte[] packed, long i) {
        int v = packed[(int) (i >> 1)];
        int n = (i & 1) == 0 ? v & 0xF : (v >> 4) & 0xF;
        return n >= 8 ? n - 16 : n;
    }

    private static void set(byte[] packed, long i, int q) {
        int idx = (int) (i >> 1);
        int n = q & 0xF;
        packed[idx] = (byte) ((i & 1) == 0 ? (packed[idx] & 0xF0) | n : (packed[idx] & 0x0F) | (n << 4));
    }

    /** The exact INT8 form: weights {@code q * m_g} (-105..105), channel scales {@code S_c}, the same bias. */
    public Int8Linear toInt8() {
        int groups = groups(in);
        byte[] w = new byte[out * in];
        for (int c = 0; c < out; c++) {
            for (int k = 0; k < in; k++) {
                w[c * in + k] = (byte) (nibble(packed, (long) c * in + k) * multipliers[c * groups + k / GROUP]);
            }
        }
        return new Int8Linear(out, in, w, bias.clone(), channelScale.clone(), inputScale);
    }

    /** Bytes of the packed weights, group multipliers (one byte each as stored) and biases. */
    public long bytes() {
        return packed.length + multipliers.length + 4L * bias.length;
    }
}
