package io.inflow.gpu.pooling;

/**
 * How token states become one vector per input.
 * <ul>
 *   <li>{@code MEAN}: mask-aware mean of the last layer (MiniLM, sentence-transformers);</li>
 *   <li>{@code CLS}: the first position of the last layer (BGE);</li>
 *   <li>{@code LAST_TOKEN}: the last non-padding position (decoder-style embedders);</li>
 *   <li>{@code MULTI_LAYER_MEAN}: weighted mean over the L transformer layers' outputs (embedding output
 *       excluded), each mask-aware mean pooled.</li>
 * </ul>
 *
 * <p>{@code PoolingConfig.of(PoolingMode.CLS)}
 */
public enum PoolingMode {
    MEAN,
    CLS,
    LAST_TOKEN,
    MULTI_LAYER_MEAN
}
