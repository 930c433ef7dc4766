package io.inflow.gpu.model;

import java.util.Arrays;

/**
 * One named weight read from a model file, as float32 on the heap, before it is uploaded to a backend.
 *
 * <p>{@code WeightArray w = source.require("embeddings.word_embeddings.weight", 30522, 384);}
 */
public record WeightArray(String name, int[] shape, float[] data) {
    public WeightArray {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("weight " + name + " has shape " + Arrays.toString(shape) + " but "
                    + data.length + " values");
        }
    }
}
