package io.inflow.gpu.cluster;

import java.util.Objects;

/**
 * {@code n} points of {@code dim} floats, row-major: what the density tree clusters.
 *
 * <p>{@code Points p = new Points(new float[] {0, 0, 1, 1, 5, 5}, 3, 2);}
 *
 * @param data {@code n * dim} floats, row {@code i} at {@code [i * dim, (i + 1) * dim)}
 */
public record Points(float[] data, int n, int dim) {

    public Points {
        Objects.requireNonNull(data, "data");
        if (n < 0 || dim < 1 || (long) n * dim != data.length) {
            throw new IllegalArgumentException("points: " + data.length + " floats do not make " + n + " rows of "
                    + dim);
        }
    }

    /** Copies row {@code i}. */
    public float[] row(int i) {
        float[] r = new float[dim];
        System.arraycopy(data, i * dim, r, 0, dim);
        return r;
    }

    /** Rows from a {@code float[n][dim]} array. */
    public static Points of(float[][] rows) {
        int dim = rows.length == 0 ? 1 : rows[0].length;
        float[] data = new float[rows.length * dim];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != dim) {
                throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " values, not " + dim);
            }
            System.arraycopy(rows[i], 0, data, i * dim, dim);
        }
        return new Points(data, rows.length, dim);
    }
}
