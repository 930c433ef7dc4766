package io.inflow.gpu.quant;

import io.inflow.gpu.backend.TensorMemory;
import io.inflow.gpu.tensor.Tensor;
import java.util.Arrays;

/**
 * Reads INT32 calibration tensors {@code [b * s, width]} back from the backend and measures magnitudes over the
 * valid tokens only (padding rows are skipped), for a column range.
 *
 * <p>{@code CalibrationPoint p = observer.point("layer 0 query", qkvFine, 0, 384, fineScale);}
 */
final class Observer {
    private final TensorMemory memory;
    private final int[] lengths;
    private final int seq;
    private final CalibrationOptions options;

    /** Reads through {@code memory} (the backend the tensors live on: host or device). */
    Observer(TensorMemory memory, int[] lengths, int seq, CalibrationOptions options) {
        this.memory = memory;
        this.lengths = lengths.clone();
        this.seq = seq;
        this.options = options;
    }

    CalibrationOptions options() {
        return options;
    }

    /** Mean over valid tokens of the cosine between rows of {@code a} and {@code b} ({@code [rows, d]}). */
    double meanTokenCosine(int[] a, int[] b, int d) {
        double sum = 0;
        int n = 0;
        for (int r = 0; r < a.length / d; r++) {
            if (r % seq >= lengths[r / seq]) {
                continue;
            }
            double ab = 0;
            double aa = 0;
            double bb = 0;
            for (int j = 0; j < d; j++) {
                double x = a[r * d + j];
                double y = b[r * d + j];
                ab += x * y;
                aa += x * x;
                bb += y * y;
            }
            sum += aa == 0 || bb == 0 ? 0 : ab / Math.sqrt(aa * bb);
            n++;
        }
        return n == 0 ? 1 : sum / n;
    }

    /** Largest |value| * unit per column of {@code t} over the valid tokens. */
    double[] columnMax(Tensor t, double unit) {
        int width = t.dim(1);
        int[] v = memory.downloadInts(t);
        long[] max = new long[width];
        for (int r = 0; r < t.dim(0); r++) {
            if (r % seq >= lengths[r / seq]) {
                continue;
            }
            for (int c = 0; c < width; c++) {
                max[c] = Math.max(max[c], Math.abs((long) v[r * width + c]));
            }
        }
        double[] out = new double[width];
        for (int c = 0; c < width; c++) {
            out[c] = max[c] * unit;
        }
        return out;
    }

    /** Scale for columns {@code [c0, c1)} of {@code t}, whose integers stand for {@code value * unit}. */
    CalibrationPoint point(String name, Tensor t, int c0, int c1, double unit) {
        return point(name, t, c0, c1, unit, 127);
    }

    /** As {@link #point} for an int16 activation (the largest magnitude maps to {@link IntegerOps#INT16_LIMIT}). */
    CalibrationPoint point16(String name, Tensor t, int c0, int c1, double unit) {
        return point(name, t, c0, c1, unit, IntegerOps.INT16_LIMIT);
    }

    private CalibrationPoint point(String name, Tensor t, int c0, int c1, double unit, int levels) {
        int width = t.dim(1);
        int[] v = memory.downloadInts(t);
        int rows = t.dim(0);
        int valid = 0;
        for (int r = 0; r < rows; r++) {
            if (r % seq < lengths[r / seq]) {
                valid++;
            }
        }
        long[] mags = new long[valid * (c1 - c0)];
        int n = 0;
        for (int r = 0; r < rows; r++) {
            if (r % seq >= lengths[r / seq]) {
                continue;
            }
            for (int c = c0; c < c1; c++) {
                mags[n++] = Math.abs((long) v[r * width + c]);
            }
        }
        Arrays.sort(mags);
        long max = mags.length == 0 ? 0 : mags[mags.length - 1];
        long clip = max;
        if (options.percentile() < 100 && mags.length > 0) {
            int idx = (int) Math.min(mags.length - 1L, Math.round(options.percentile() / 100 * (mags.length - 1)));
            clip = mags[idx];
        }
        double scale = Math.max(clip, 1) * unit / levels;
        long above = 0;
        for (int i = mags.length - 1; i >= 0 && mags[i] > clip; i--) {
            above++;
        }
        return new CalibrationPoint(name, max * unit, scale, mags.length == 0 ? 0 : (double) above / mags.length,
                mags.length);
    }
}
