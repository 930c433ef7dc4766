package io.inflow.gpu.pooling;

import io.inflow.gpu.backend.Backend;
import io.inflow.gpu.tensor.Tensor;

/**
 * Applies a {@link PoolingConfig} with backend kernels. Single-layer modes pool the final hidden states
 * with {@link #poolFinal}; {@code MULTI_LAYER_MEAN} is fed every layer through {@link #acceptLayer}
 * (which accumulates {@code out += w_l * meanPool(hidden_l)}) after {@link #begin}.
 *
 * <pre>{@code
 * Pooler pooler = new Pooler(PoolingConfig.mean(), 6);
 * pooler.poolFinal(backend, hidden, lengths, out);
 * }</pre>
 */
public final class Pooler {
    private final PoolingConfig config;
    private final float[] weights;

    public Pooler(PoolingConfig config, int layers) {
        this.config = config;
        this.weights = config.mode() == PoolingMode.MULTI_LAYER_MEAN ? config.normalisedWeights(layers) : null;
    }

    public PoolingConfig config() {
        return config;
    }

    /** True when every layer's output must be passed to {@link #acceptLayer}. */
    public boolean needsEveryLayer() {
        return weights != null;
    }

    /** Pools the last layer's {@code hidden [b, s, d]} into {@code out [b, d]} (single-layer modes). */
    public void poolFinal(Backend backend, Tensor hidden, Tensor lengths, Tensor out) {
        switch (config.mode()) {
            case MEAN -> backend.transformer().meanPool(hidden, lengths, out);
            case CLS -> backend.transformer().firstTokenPool(hidden, out);
            case LAST_TOKEN -> backend.transformer().lastTokenPool(hidden, lengths, out);
            case MULTI_LAYER_MEAN -> throw new IllegalStateException("multi-layer pooling is fed layer by layer");
        }
    }

    /** Starts a multi-layer accumulation into {@code out}. */
    public void begin(Backend backend, Tensor out) {
        backend.transformer().fill(out, 0f);
    }

    /** Adds layer {@code layer} (1-based) to the multi-layer accumulation; {@code scratch} is {@code [b, d]}. */
    public void acceptLayer(Backend backend, int layer, Tensor hidden, Tensor lengths, Tensor out, Tensor scratch) {
        float w = weights[layer - 1];
        if (w == 0f) {
            return;
        }
        backend.transformer().meanPool(hidden, lengths, scratch);
        backend.transformer().scaleAdd(out, scratch, w);
    }
}
