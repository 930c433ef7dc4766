package io.inflow.gpu.model;

import java.util.Arrays;
import java.util.Optional;

/**
 * Named float32 weights in Hugging Face naming ({@code encoder.layer.0.attention.self.query.weight},
 * Linear weights as {@code [out, in]}), whatever the file format underneath: ONNX initializers or
 * safetensors. Loaders ask by name and expected shape, so a missing or mis-shaped tensor fails at load
 * with its name and both shapes.
 *
 * <p>{@code float[] gamma = source.require("embeddings.LayerNorm.weight", 384).data();}
 */
public interface WeightSource {

    /** The weight {@code name}, if present. */
    Optional<WeightArray> find(String name);

    /** Where the weights come from, for error messages. */
    String describe();

    /** The weight {@code name} with exactly {@code shape}; fails naming the tensor and both shapes. */
    default WeightArray require(String name, int... shape) {
        WeightArray w = find(name).orElseThrow(() -> new IllegalArgumentException(
                "weight " + name + " (expected shape " + Arrays.toString(shape) + ") is missing from " + describe()));
        if (!Arrays.equals(w.shape(), shape)) {
            throw new IllegalArgumentException("weight " + name + " in " + describe() + ": expected shape "
                    + Arrays.toString(shape) + ", found " + Arrays.toString(w.shape()));
        }
        return w;
    }
}
