package io.inflow.gpu.pooling;

import java.util.Arrays;

/**
 * Pooling mode plus, for {@link PoolingMode#MULTI_LAYER_MEAN}, one weight per transformer layer (null: uniform).
 * Weights are normalised by their sum, so {@code {1, 1, 2}} means 25%, 25%, 50%.
 *
 * <pre>{@code
 * PoolingConfig.mean();
 * PoolingConfig.multiLayerMean(0, 0, 0, 0, 1, 1);   // mean of the last two of six layers
 * }</pre>
 */
public record PoolingConfig(PoolingMode mode, float[] layerWeights) {

    public PoolingConfig {
        if (mode == null) {
            throw new IllegalArgumentException("pooling mode is null");
        }
        if (layerWeights != null) {
            if (mode != PoolingMode.MULTI_LAYER_MEAN) {
                throw new IllegalArgumentException("layer weights apply only to MULTI_LAYER_MEAN (mode " + mode + ")");
            }
            double sum = 0;
            for (float w : layerWeights) {
                if (!(w >= 0) || Float.isInfinite(w)) {
                    throw new IllegalArgumentException("layer weights must be finite and >= 0: " + Arrays.toString(layerWeights));
                }
                sum += w;
            }
            if (sum <= 0) {
                throw new IllegalArgumentException("layer weights sum to 0: " + Arrays.toString(layerWeights));
            }
            layerWeights = layerWeights.clone();
        }
    }

    public static PoolingConfig of(PoolingMode mode) {
        return new PoolingConfig(mode, null);
    }

    public static PoolingConfig mean() {
        return of(PoolingMode.MEAN);
    }

    public static PoolingConfig cls() {
        return of(PoolingMode.CLS);
    }

    public static PoolingConfig lastToken() {
        return of(PoolingMode.LAST_TOKEN);
    }

    /** Multi-layer mean; no weights means uniform. */
    public static PoolingConfig multiLayerMean(float... weights) {
        return new PoolingConfig(PoolingMode.MULTI_LAYER_MEAN, weights == null || weights.length == 0 ? null : weights);
    }

    /** The normalised weights for a model with {@code layers} layers; fails if the count disagrees. */
    public float[] normalisedWeights(int layers) {
        float[] w = layerWeights;
        if (w == null) {
            w = new float[layers];
            Arrays.fill(w, 1f);
        } else if (w.length != layers) {
            throw new IllegalArgumentException("multi-layer pooling has " + w.length + " weights but the model has "
                    + layers + " layers");
        }
        double sum = 0;
        for (float v : w) {
            sum += v;
        }
        float[] out = new float[layers];
        for (int i = 0; i < layers; i++) {
            out[i] = (float) (w[i] / sum);
        }
        return out;
    }
}
