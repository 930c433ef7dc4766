package io.inflow.gpu.quant;

import java.util.Arrays;

/**
 * How an integer kernel turns its wide results into its output: per output channel {@code c}, the dyadic
 * {@code multiplier[c] / 2^shift[c]} (the ratio of the accumulator's scale to the output's), rounded half up, then
 * saturated to int8 (-127..127), int16 (-32639..32639, two int8 planes) or int32. One value per channel, or the same for all (a per-tensor scale).
 *
 * <pre>{@code
 * Requant toInt8 = Requant.uniform(Dyadic.of(accScale / outScale, 31), 384, Requant.Output.INT8);
 * int q = toInt8.apply(5, acc);          // channel 5
 * }</pre>
 */
public record Requant(int[] multiplier, int[] shift, Output output) {

    /**
     * The output type: int8 activations for the next GEMM; int16 activations for a wide GEMM, stored as two int8
     * planes ({@link IntegerOps#highByte}, {@link IntegerOps#lowByte}); or int32 (residual stream, scores, GELU
     * inputs).
     */
    public enum Output { INT8, INT16, INT32 }

    public Requant {
        if (multiplier.length != shift.length) {
            throw new IllegalArgumentException("requant: " + multiplier.length + " multipliers, " + shift.length
                    + " shifts");
        }
        for (int s : shift) {
            if (s < 0 || s > Dyadic.MAX_SHIFT) {
                throw new IllegalArgumentException("requant shift " + s + " outside 0.." + Dyadic.MAX_SHIFT);
            }
        }
    }

    /** One dyadic per channel. */
    public static Requant perChannel(Dyadic[] d, Output output) {
        int[] m = new int[d.length];
        int[] s = new int[d.length];
        for (int i = 0; i < d.length; i++) {
            m[i] = d[i].multiplier();
            s[i] = d[i].shift();
        }
        return new Requant(m, s, output);
    }

    /** The same dyadic for all {@code channels}. */
    public static Requant uniform(Dyadic d, int channels, Output output) {
        int[] m = new int[channels];
        int[] s = new int[channels];
        Arrays.fill(m, d.multiplier());
        Arrays.fill(s, d.shift());
        return new Requant(m, s, output);
    }

    public int channels() {
        return multiplier.length;
    }

    /** Channel {@code c}'s dyadic. */
    public Dyadic dyadic(int c) {
        return new Dyadic(multiplier[c], shift[c]);
    }

    /** Requantises {@code x} for channel {@code c} and saturates to the output type. */
    public int apply(int c, long x) {
        long p = x * multiplier[c];
        int s = shift[c];
        long v = s == 0 ? p : (p + (1L << (s - 1))) >> s;
        return switch (output) {
            case INT8 -> IntegerOps.clampInt8(v);
            case INT16 -> IntegerOps.clampInt16(v);
            case INT32 -> IntegerOps.clampInt32(v);
        };
    }
}
