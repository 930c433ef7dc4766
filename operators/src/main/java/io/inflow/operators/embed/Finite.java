package io.inflow.operators.embed;

/** Finiteness of one row of a row-major float matrix: {@code Finite.row(embeddings, 384, row)}. */
final class Finite {
    private Finite() {
    }

    /** Whether row {@code row} of {@code values} ({@code [rows, width]}) holds no NaN and no infinity. */
    static boolean row(float[] values, int width, int row) {
        for (int i = row * width, end = i + width; i < end; i++) {
            if (!Float.isFinite(values[i])) {
                return false;
            }
        }
        return true;
    }
}
