package io.inflow.e2e.bench;

import java.util.Arrays;
import java.util.List;

/** Percentiles (nearest rank) and "median (min-max)" of repeated measurements. */
final class Stats {

    private Stats() {
    }

    static long percentile(List<Long> values, double p) {
        return percentile(values.stream().mapToLong(Long::longValue).toArray(), p);
    }

    static long percentile(long[] values, double p) {
        if (values.length == 0) {
            return -1;
        }
        long[] v = values.clone();
        Arrays.sort(v);
        int rank = (int) Math.ceil(p / 100.0 * v.length);
        return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
    }

    static long max(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).max().orElse(-1);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** "1234 (1100-1300)": median and range. */
    static String medianRange(double[] v, String format) {
        double[] s = v.clone();
        Arrays.sort(s);
        return String.format(format + " (" + format + "-" + format + ")", median(s), s[0], s[s.length - 1]);
    }
}
