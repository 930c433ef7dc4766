package io.inflow.gpu.quant;

import io.inflow.gpu.tensor.DType;
import io.inflow.gpu.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The calibration of a self-attention block, shared by the BERT and ViT quantizers: the QKV GEMM onto the fine grid,
 * one int8 scale each for query, key and value; the score dyadic ({@code S_q S_k / sqrt(dh)} onto 2^-10); the context
 * onto the fine grid, its int8 scale; then the block run for real with those scales, leaving the int8 context.
 *
 * <p>{@code AttentionCalibration.Result a = AttentionCalibration.run(ops, observer, points, "layer 0 ", qkv, xq,
 * lengths, batch, seq, heads, d, alloc);}
 */
final class AttentionCalibration {
    static final double FINE = Math.scalb(1.0, -12);
    static final double SCORE_UNIT = Math.scalb(1.0, -IntegerOps.FRACTION_BITS);
    static final double PROB = Math.scalb(1.0, -IntegerOps.PROB_BITS);

    /** Where calibration tensors come from (and are freed with the quantizer's run). */
    interface Alloc {
        Tensor alloc(DType type, int rows, int cols);
    }

    /** The block's requantisations and its int8 context {@code [t, d]}. */
    record Result(Requant qkvOut, Dyadic score, Requant ctxOut, CalibrationPoint context, Tensor ctx) {
    }

    private AttentionCalibration() {
    }

    static Result run(QuantizedOps ops, Observer observer, List<CalibrationPoint> points, String prefix,
                      Int8Linear qkv, Tensor xq, Tensor lengths, int batch, int seq, int heads, int d, Alloc alloc) {
        int t = batch * seq;
        Tensor fine = alloc.alloc(DType.INT32, t, 3 * d);
        ops.linear(xq, qkv, qkv.requantTo(FINE, Requant.Output.INT32), fine);
        double[] sliceScale = new double[3 * d];
        double[] qkvScale = new double[3];
        String[] names = {"query", "key", "value"};
        for (int s = 0; s < 3; s++) {
            CalibrationPoint cp = observer.point(prefix + names[s], fine, s * d, (s + 1) * d, FINE);
            points.add(cp);
            qkvScale[s] = cp.scale();
            Arrays.fill(sliceScale, s * d, (s + 1) * d, cp.scale());
        }
        Requant qkvOut = qkv.requantTo(sliceScale, Requant.Output.INT8);
        Tensor qkvT = alloc.alloc(DType.INT8, t, 3 * d);
        ops.linear(xq, qkv, qkvOut, qkvT);
        Dyadic score = Dyadic.of(qkvScale[0] * qkvScale[1] / Math.sqrt((double) d / heads) / SCORE_UNIT, 31);
        Tensor ctxFine = alloc.alloc(DType.INT32, t, d);
        ops.attention(qkvT, lengths, batch, seq, heads, score,
                Requant.uniform(Dyadic.of(PROB * qkvScale[2] / FINE, 31), d, Requant.Output.INT32), ctxFine);
        CalibrationPoint ctxPoint = observer.point(prefix + "context", ctxFine, 0, d, FINE);
        points.add(ctxPoint);
        Requant ctxOut = Requant.uniform(Dyadic.of(PROB * qkvScale[2] / ctxPoint.scale(), 31), d, Requant.Output.INT8);
        Tensor ctx = alloc.alloc(DType.INT8, t, d);
        ops.attention(qkvT, lengths, batch, seq, heads, score, ctxOut, ctx);
        return new Result(qkvOut, score, ctxOut, ctxPoint, ctx);
    }
}
