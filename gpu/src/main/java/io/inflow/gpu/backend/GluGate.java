package io.inflow.gpu.backend;

/**
 * The gate of a gated linear unit {@code out = a * gate(b)}, where the input row is split in halves
 * {@code [a | b]}. GELU gives GEGLU (the default), SIGMOID the original GLU.
 *
 * <p>{@code backend.glu(x, GluGate.GELU, out);}
 */
public enum GluGate {
    GELU,
    SIGMOID
}
