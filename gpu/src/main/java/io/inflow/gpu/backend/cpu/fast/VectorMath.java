package io.inflow.gpu.backend.cpu.fast;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised transcendental helpers for the fast kernels. {@code erf} uses Abramowitz and Stegun 7.1.26
 * (absolute error at most 1.5e-7, below float resolution near 1) on top of the Vector API's {@code EXP}.
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
    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final FloatVector ONE = FloatVector.broadcast(S, 1f);

    private VectorMath() {
    }

    /** erf(x) = sign(x) (1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) exp(-x^2)), t = 1 / (1 + p |x|). */
    static FloatVector erf(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector t = ONE.div(ax.fma(P, 1f));
        FloatVector poly = t.fma(A5, A4).fma(t, FloatVector.broadcast(S, A3)).fma(t, FloatVector.broadcast(S, A2))
                .fma(t, FloatVector.broadcast(S, A1)).mul(t);
        FloatVector e = ax.mul(ax).neg().lanewise(VectorOperators.EXP);
        FloatVector y = poly.mul(e).neg().add(1f);
        return y.lanewise(VectorOperators.NEG, x.compare(VectorOperators.LT, 0f));
    }

    /** x * 0.5 * (1 + erf(x / sqrt 2)). */
    static FloatVector gelu(FloatVector x) {
        return x.mul(0.5f).mul(erf(x.mul(INV_SQRT2)).add(1f));
    }

    /** 1 / (1 + exp(-x)). */
    static FloatVector sigmoid(FloatVector x) {
        return ONE.div(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    /** Scalar twins for loop tails, same formulas. */
    static float erf(float x) {
        float ax = Math.abs(x);
        float t = 1f / (1f + P * ax);
        float poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
        float y = 1f - poly * (float) Math.exp(-ax * ax);
        return x < 0 ? -y : y;
    }

    static float gelu(float x) {
        return x * 0.5f * (1f + erf(x * INV_SQRT2));
    }

    static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }
}
