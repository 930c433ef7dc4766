package io.inflow.gpu.head;

/**
 * Projection heads ({@link HeadConfig} says which; {@code gpu/README.md} lists the tensor names):
 * <ul>
 *   <li>{@code NONE}: identity;</li>
 *   <li>{@code LINEAR}: {@code W x + b};</li>
 *   <li>{@code FFN}: {@code Linear(d, m*d) -> GELU -> Linear(m*d, out)}, m read off the weights;</li>
 *   <li>{@code GLU}: {@code Linear(d, 2h) -> a * gate(b) -> Linear(h, out)}, gate GELU (GEGLU, default) or sigmoid;</li>
 *   <li>{@code LOW_RANK_ADAPTER}: {@code e + U (V^T e)}, U and V {@code [d, r]} (always residual, in = out).</li>
 * </ul>
 *
 * <p>{@code HeadConfig.of(HeadType.FFN, path)}
 */
public enum HeadType {
    NONE,
    LINEAR,
    FFN,
    GLU,
    LOW_RANK_ADAPTER
}
