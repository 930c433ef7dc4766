package io.inflow.operators.embed;

/** Finiteness of one row of a row-major float matrix: {@code Finite.rows(embeddings, 384, row)}. */
final class Finite {
    private Finite() {
    }

    /** Whether row {@code row} of {@code values} ({@code [rows, width]}) holds no NaN and no infinity. */
    static boolean rows(float[] values, int width, int row) {
        for (int i = row * width, end = i + width; i < end; i++) {
            if (!Float.isFinite(values[i])) {
                return false;
            }
        }
        return true;
    }
}
