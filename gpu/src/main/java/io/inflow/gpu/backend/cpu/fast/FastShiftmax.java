package io.inflow.gpu.backend.cpu.fast;

import io.inflow.gpu.quant.IntegerOps;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link IntegerOps#shiftmax} with int vectors, bit for bit: the row maximum, then each key's shift exponential
 * ({@code d = score - max}, {@code t = -(d + d/2 - d/16)}, {@code ((2 - r) << 14) >> q} with per-lane shifts), then
 * the one 64-bit reciprocal per row as the reference does it. Exact because {@code d} is first clamped to
 * {@code -2^21}, where the exponential is already 0 ({@code q > 25}), so every step fits 32 bits.
 *
 * <p>{@code FastShiftmax.shiftmax(scores, n, probs);   // probs[0..n) = IntegerOps.shiftmax of scores[0..n)}
 */
final class FastShiftmax {
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Below this distance to the row maximum every exponential is 0 (q > EXP_BITS). */
    private static final int FLOOR = -(1 << 21);

    private FastShiftmax() {
    }

    static void shiftmax(int[] scores, int n, int[] probs) {
        int bound = I.loopBound(n);
        int max = Integer.MIN_VALUE;
        int j = 0;
        if (bound > 0) {
            IntVector m = IntVector.fromArray(I, scores, 0);
            for (j = I.length(); j < bound; j += I.length()) {
                m = m.max(IntVector.fromArray(I, scores, j));
            }
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; j < n; j++) {
            max = Math.max(max, scores[j]);
        }
        // lowest score that still counts; below it d would be clamped anyway (no int overflow in score - max)
        int lo = max < Integer.MIN_VALUE - FLOOR ? Integer.MIN_VALUE : max + FLOOR;
        long sum = 0;
        IntVector maxV = IntVector.broadcast(I, max);
        IntVector loV = IntVector.broadcast(I, lo);
        for (j = 0; j < bound; j += I.length()) {
            IntVector d = IntVector.fromArray(I, scores, j).max(loV).sub(maxV);
            IntVector t = d.add(d.lanewise(VectorOperators.ASHR, 1)).sub(d.lanewise(VectorOperators.ASHR, 4)).neg();
            IntVector q = t.lanewise(VectorOperators.ASHR, IntegerOps.FRACTION_BITS);
            IntVector r = t.and((1 << IntegerOps.FRACTION_BITS) - 1);
            IntVector e = IntVector.broadcast(I, 2 << IntegerOps.FRACTION_BITS).sub(r)
                    .lanewise(VectorOperators.LSHL, IntegerOps.EXP_BITS - IntegerOps.FRACTION_BITS - 1)
                    .lanewise(VectorOperators.ASHR, q);
            VectorMask<Integer> gone = q.compare(VectorOperators.GT, IntegerOps.EXP_BITS);
            e = e.blend(0, gone);
            e.intoArray(probs, j);
            sum += e.reduceLanes(VectorOperators.ADD);       // at most 16 lanes of 2^25
        }
        for (; j < n; j++) {
            long e = IntegerOps.shiftExp(-IntegerOps.timesLog2e((long) Math.max(scores[j], lo) - max));
            probs[j] = (int) e;
            sum += e;
        }
        long factor = (1L << 56) / sum;
        for (j = 0; j < n; j++) {
            probs[j] = (int) Math.min(255, (probs[j] * factor + (1L << 47)) >> 48);
        }
    }
}
