package io.inflow.gpu.quant;

/**
 * {@link IntegerOps#shiftGelu} by table lookup, bit for bit: the sigmoid factor depends only on {@code |v|} and is
 * exactly 0 or 1 beyond the point where the shift exponential underflows ({@code |v|} about 11,000, real 10.8), so
 * the factors below it fit a 45 KB table computed from the definition itself. Saves the one integer division per
 * element, the dearest step of ShiftGELU on a CPU.
 *
 * <p>{@code long g = ShiftGeluTable.shiftGelu(v);   // == IntegerOps.shiftGelu(v)}
 */
public final class ShiftGeluTable {
    /** sigmoid(-1.702 |x|) at 2^-16 for |v| < {@link #SIZE}; beyond, 0. */
    private static final int[] NEG;
    static final int SIZE;

    static {
        int n = 0;
        while (negative(n) != 0) {
            n++;
        }
        SIZE = n;
        NEG = new int[n];
        for (int a = 0; a < n; a++) {
            NEG[a] = (int) negative(a);
        }
    }

    private ShiftGeluTable() {
    }

    /** The definition's sigmoid(-1.702 a) at 2^-16 for {@code a >= 0}. */
    static long negative(long a) {
        long z = (Math.min(a, IntegerOps.GELU_INPUT_LIMIT) * IntegerOps.GELU_SLOPE + (1L << 29)) >> 30;
        long e = IntegerOps.shiftExp(z + (z >> 1) - (z >> 4));
        long one = 1L << IntegerOps.EXP_BITS;
        return ((e << IntegerOps.SIGMOID_BITS) + ((one + e) >> 1)) / (one + e);
    }

    /** Equal to {@link IntegerOps#shiftGelu}{@code (v)} for every int. */
    public static long shiftGelu(int v) {
        long a = Math.abs((long) v);
        long neg = a < SIZE ? NEG[(int) a] : 0;
        long sigmoid = v >= 0 ? (1L << IntegerOps.SIGMOID_BITS) - neg : neg;
        long x = Math.max(-IntegerOps.GELU_INPUT_LIMIT, Math.min(IntegerOps.GELU_INPUT_LIMIT, v));
        return x * sigmoid;
    }
}
