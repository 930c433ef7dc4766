package io.inflow.gpu.backend.cpu.fast;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised transcendental helpers for the fast kernels. {@code exp} is the Cephes single-precision
 * polynomial (about 1 ulp) built from FMAs and bit tricks only, and {@code erf} is Abramowitz and Stegun
 * 7.1.26 (absolute error at most 1.5e-7) on top of it. The Vector API's own {@code EXP} is avoided on
 * purpose: its interpreted fallback and its compiled intrinsic round differently, so results would depend
 * on JIT state; with plain IEEE operations the fast kernels are deterministic run to run. Horizontal sums
 * go through {@link #sum} (fixed order) for the same reason.
 *
 * <p>{@code FloatVector y = VectorMath.gelu(FloatVector.fromArray(S, x, i));}
 */
final class VectorMath {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final float P = 0.3275911f;
    private static final float A1 = 0.254829592f;
    private static final float A2 = -0.284496736f;
    private static final float A3 = 1.421413741f;
    private static final float A4 = -1.453152027f;
    private static final float A5 = 1.061405429f;
    private static final int SIGN = 0x80000000;
    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final FloatVector ONE = FloatVector.broadcast(S, 1f);

    private static final float EXP_HI = 88.3762626647949f;
    private static final float EXP_LO = -87.33654475f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;   // 1.5 * 2^23: adding it rounds to an integer
    private static final float E0 = 1.9875691500e-4f;
    private static final float E1 = 1.3981999507e-3f;
    private static final float E2 = 8.3334519073e-3f;
    private static final float E3 = 4.1665795894e-2f;
    private static final float E4 = 1.6666665459e-1f;
    private static final float E5 = 5.0000001201e-1f;

    private static final FloatVector LOG2E_V = FloatVector.broadcast(S, LOG2E);
    private static final FloatVector ROUND_V = FloatVector.broadcast(S, ROUND);
    private static final FloatVector NEG_LN2_HI_V = FloatVector.broadcast(S, -LN2_HI);
    private static final FloatVector NEG_LN2_LO_V = FloatVector.broadcast(S, -LN2_LO);
    private static final FloatVector E2_V = FloatVector.broadcast(S, E2);
    private static final FloatVector E3_V = FloatVector.broadcast(S, E3);
    private static final FloatVector E4_V = FloatVector.broadcast(S, E4);
    private static final FloatVector E5_V = FloatVector.broadcast(S, E5);
    private static final FloatVector A2_V = FloatVector.broadcast(S, A2);
    private static final FloatVector A3_V = FloatVector.broadcast(S, A3);
    private static final FloatVector A1_V = FloatVector.broadcast(S, A1);
    /** 127 minus the bit pattern of ROUND: turns the bits of (n + ROUND) into the biased exponent n + 127. */
    private static final int EXP_BIAS = 127 - Float.floatToIntBits(ROUND);

    private VectorMath() {
    }

    /**
     * e^x for x clamped to [-87.34, 88.38]: x = n ln2 + r, |r| <= ln2 / 2, e^r by a degree-7 polynomial,
     * 2^n straight from the exponent bits. Adding 1.5 * 2^23 rounds x log2(e) to the integer n and leaves
     * n in the low mantissa bits, so no float-to-int conversion is needed (only bit operations, which
     * every x86 Vector API backend compiles). Below -87.34 the result is about 1e-38 rather than 0, which
     * is negligible next to the softmax's largest term (1) and below anything erf can resolve.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = expClamp(x);
        FloatVector t = xc.fma(LOG2E_V, ROUND_V);
        return expPoly(expReduce(xc, t)).mul(pow2(t));
    }

    private static FloatVector expClamp(FloatVector x) {
        return x.max(EXP_LO).min(EXP_HI);
    }

    // exp is split into methods under C2's MaxInlineSize (35 bytecodes) so that every piece is inlined into its
    // caller even at call sites the JIT does not consider hot. A vector method that is not inlined receives its
    // vectors boxed, and the Vector API then runs reinterpretAsInts in plain Java (ByteBuffer copies): measured
    // on softmax, that made attention 5x slower (JFR: AbstractVector.convert0 and ByteBuffer.allocate on top).

    /** r = x - n ln2 in two steps (Cody-Waite), n = t - ROUND. */
    private static FloatVector expReduce(FloatVector xc, FloatVector t) {
        FloatVector n = t.sub(ROUND);
        return n.fma(NEG_LN2_LO_V, n.fma(NEG_LN2_HI_V, xc));
    }

    /** e^r for |r| <= ln2 / 2: 1 + r + r^2 (E5 + r (E4 + ...)). */
    private static FloatVector expPoly(FloatVector r) {
        FloatVector p = expPolyHigh(r).fma(r, E4_V).fma(r, E5_V);
        return p.mul(r).fma(r, r).add(1f);
    }

    private static FloatVector expPolyHigh(FloatVector r) {
        return r.fma(E0, E1).fma(r, E2_V).fma(r, E3_V);
    }

    /** 2^n from t = n + ROUND: n sits in the low mantissa bits of t, shifted into the exponent field. */
    private static FloatVector pow2(FloatVector t) {
        return t.reinterpretAsInts().add(EXP_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    }

    /** Scalar twin of {@link #exp(FloatVector)}, same operations, same results. */
    static float exp(float x) {
        float xc = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float t = Math.fma(xc, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, E0, E1), r, E2), r, E3), r, E4), r, E5);
        float y = Math.fma(p * r, r, r) + 1f;
        return y * Float.intBitsToFloat((Float.floatToRawIntBits(t) + EXP_BIAS) << 23);
    }

    /** Sum of the lanes in lane order (deterministic, unlike a tree reduction). */
    static float sum(FloatVector v) {
        float[] lanes = v.toArray();
        float s = 0f;
        for (float f : lanes) {
            s += f;
        }
        return s;
    }

    /** erf(x) = sign(x) (1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) exp(-x^2)), t = 1 / (1 + p |x|). */
    static FloatVector erf(FloatVector x) {
        return copySign(erfAbs(x.abs()), x);
    }

    /** erf(ax) for ax >= 0 (split like {@link #exp} to stay under the inlining size). */
    private static FloatVector erfAbs(FloatVector ax) {
        return ONE.sub(erfPoly(erfT(ax)).mul(exp(ax.mul(ax).neg())));
    }

    /** t = 1 / (1 + p ax). */
    private static FloatVector erfT(FloatVector ax) {
        return ONE.div(ax.fma(P, 1f));
    }

    private static FloatVector erfPoly(FloatVector t) {
        return t.fma(A5, A4).fma(t, A3_V).fma(t, A2_V).fma(t, A1_V).mul(t);
    }

    /** |y| with the sign of x. */
    private static FloatVector copySign(FloatVector y, FloatVector x) {
        return y.reinterpretAsInts().or(x.reinterpretAsInts().and(SIGN)).reinterpretAsFloats();
    }

    /** x * 0.5 * (1 + erf(x / sqrt 2)). */
    static FloatVector gelu(FloatVector x) {
        return x.mul(0.5f).mul(erf(x.mul(INV_SQRT2)).add(1f));
    }

    /** 1 / (1 + exp(-x)). */
    static FloatVector sigmoid(FloatVector x) {
        return ONE.div(exp(x.neg()).add(1f));
    }

    /** Scalar twins for loop tails, same formulas. */
    static float erf(float x) {
        float ax = Math.abs(x);
        float t = 1f / (1f + P * ax);
        float poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
        float y = 1f - poly * exp(-ax * ax);
        return Math.copySign(y, x);
    }

    static float gelu(float x) {
        return x * 0.5f * (1f + erf(x * INV_SQRT2));
    }

    static float sigmoid(float x) {
        return 1f / (1f + exp(-x));
    }
}
