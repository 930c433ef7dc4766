package io.inflow.gpu.quant;

/**
 * One LayerNorm in the integer path (I-LayerNorm): {@link IntegerOps#normalizeRow} gives {@code n = (y - mean) /
 * sqrt(sum (y - mean)^2) * 2^30}; then per channel {@code j} two outputs, each a dyadic of {@code n} plus an integer
 * bias: int8 for the next GEMM ({@code gamma_j sqrt(d) / 2^30 / int8Scale_j}, bias {@code round(beta_j /
 * int8Scale_j)}) and int32 on the residual stream at 2^-12. The epsilon of the float LayerNorm is below one unit of
 * the integer variance and is dropped.
 *
 * <pre>{@code
 * IntLayerNorm ln = IntLayerNorm.of(gamma, beta, int8Scales);
 * ops.layerNorm(x, residual, ln, int8Out, residualOut);
 * }</pre>
 *
 * @param int8Scale per-channel scale of the int8 output (all equal for a per-tensor scale)
 */
public record IntLayerNorm(int dim, Requant toInt8, int[] int8Bias, Requant toResidual, int[] residualBias,
                           float[] int8Scale) {

    /** Builds the dyadics from the float parameters and the int8 output's per-channel scales. */
    public static IntLayerNorm of(float[] gamma, float[] beta, float[] int8Scale) {
        int d = gamma.length;
        if (beta.length != d || int8Scale.length != d) {
            throw new IllegalArgumentException("layer norm of width " + d + ": " + beta.length + " betas, "
                    + int8Scale.length + " scales");
        }
        double unit = Math.sqrt(d) / (1L << 30);
        double residualScale = Math.scalb(1.0, -IntegerOps.RESIDUAL_BITS);
        Dyadic[] q = new Dyadic[d];
        Dyadic[] r = new Dyadic[d];
        int[] qb = new int[d];
        int[] rb = new int[d];
        for (int j = 0; j < d; j++) {
            q[j] = Dyadic.of(gamma[j] * unit / int8Scale[j], 31);
            r[j] = Dyadic.of(gamma[j] * unit / residualScale, 31);
            qb[j] = (int) Math.round(beta[j] / int8Scale[j]);
            rb[j] = (int) Math.round(beta[j] / residualScale);
        }
        return new IntLayerNorm(d, Requant.perChannel(q, Requant.Output.INT8), qb,
                Requant.perChannel(r, Requant.Output.INT32), rb, int8Scale.clone());
    }

    /** Channel {@code j}'s int8 output for a normalised value {@code n}. */
    public int int8(int j, long n) {
        return IntegerOps.clampInt8(toInt8.dyadic(j).apply(n) + int8Bias[j]);
    }

    /** Channel {@code j}'s residual-stream output for a normalised value {@code n}. */
    public int residual(int j, long n) {
        return IntegerOps.clampInt32(toResidual.dyadic(j).apply(n) + residualBias[j]);
    }
}
