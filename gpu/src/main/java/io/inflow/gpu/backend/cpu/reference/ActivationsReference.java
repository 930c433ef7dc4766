package io.inflow.gpu.backend.cpu.reference;

import io.inflow.gpu.backend.GluGate;

/**
 * Activation functions in double precision: GELU (erf form), quick GELU, sigmoid, gated linear units.
 *
 * <p>{@code float y = ActivationsReference.gelu(0.5f);}
 */
public final class ActivationsReference {
    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);

    private ActivationsReference() {
    }

    /** {@code x * 0.5 * (1 + erf(x / sqrt(2)))}. */
    public static float gelu(float x) {
        return (float) (x * 0.5 * (1.0 + Erf.erf(x * INV_SQRT2)));
    }

    /** {@code x * sigmoid(1.702 x)}. */
    public static float quickGelu(float x) {
        return (float) (x * sigmoid(1.702 * x));
    }

    public static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    public static void gelu(float[] x, float[] out) {
        for (int i = 0; i < x.length; i++) {
            out[i] = gelu(x[i]);
        }
    }

    public static void quickGelu(float[] x, float[] out) {
        for (int i = 0; i < x.length; i++) {
            out[i] = quickGelu(x[i]);
        }
    }

    /** Rows of {@code x[rows, 2h]} split {@code [a | b]}; {@code out[rows, h] = a * gate(b)}. */
    public static void glu(float[] x, GluGate gate, float[] out, int rows, int h) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < h; c++) {
                float a = x[r * 2 * h + c];
                float b = x[r * 2 * h + h + c];
                double g = gate == GluGate.GELU ? gelu(b) : sigmoid(b);
                out[r * h + c] = (float) (a * g);
            }
        }
    }
}
