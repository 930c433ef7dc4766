package io.inflow.gpu.quant;

/**
 * An embedding table in the integer path: int8 rows with one symmetric scale per row; a lookup requantises the row
 * onto the residual stream (2^-12) with that row's dyadic.
 *
 * <pre>{@code
 * Int8Embedding words = Int8Embedding.quantize(floatTable, 30522, 384);
 * long v = words.residual(id, j);      // element j of row id at 2^-12
 * }</pre>
 */
public record Int8Embedding(int rows, int dim, byte[] table, Requant toResidual, float[] rowScale) {

    public Int8Embedding {
        if ((long) rows * dim != table.length || toResidual.channels() != rows || rowScale.length != rows) {
            throw new IllegalArgumentException("int8 embedding [" + rows + ", " + dim + "]: " + table.length
                    + " values, " + toResidual.channels() + " row dyadics");
        }
    }

    /** Quantizes a float table {@code [rows, dim]} row by row ({@code scale = max|row| / 127}). */
    public static Int8Embedding quantize(float[] t, int rows, int dim) {
        byte[] q = new byte[rows * dim];
        float[] scales = new float[rows];
        Dyadic[] d = new Dyadic[rows];
        double residualScale = Math.scalb(1.0, -IntegerOps.RESIDUAL_BITS);
        for (int r = 0; r < rows; r++) {
            double max = 0;
            for (int j = 0; j < dim; j++) {
                max = Math.max(max, Math.abs(t[r * dim + j]));
            }
            double scale = max == 0 ? 1.0 : max / 127.0;
            scales[r] = (float) scale;
            for (int j = 0; j < dim; j++) {
                q[r * dim + j] = (byte) Math.max(-127, Math.min(127, Math.round(t[r * dim + j] / scale)));
            }
            d[r] = Dyadic.of(scales[r] / residualScale, 31);
        }
        return new Int8Embedding(rows, dim, q, Requant.perChannel(d, Requant.Output.INT32), scales);
    }

    /** Element {@code j} of row {@code row}, on the residual stream. */
    public long residual(int row, int j) {
        return toResidual.dyadic(row).apply(table[row * dim + j]);
    }
}
