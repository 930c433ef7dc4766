package io.inflow.operators.batch;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Maps a token count to the smallest padded length that holds it.
 *
 * <p>{@code new LengthBuckets(new int[] {16, 32, 64}).indexFor(20) == 1}
 */
public final class LengthBuckets implements Serializable {

    private static final long serialVersionUID = 1L;

    private final int[] lengths;

    public LengthBuckets(int[] ascendingLengths) {
        this.lengths = ascendingLengths.clone();
    }

    /**
     * Index of the smallest bucket whose length is {@code >= tokens}.
     *
     * @throws IllegalArgumentException when no bucket is long enough (the tokenizer limit exceeds the last bucket)
     */
    public int indexFor(int tokens) {
        for (int i = 0; i < lengths.length; i++) {
            if (tokens <= lengths[i]) {
                return i;
            }
        }
        throw new IllegalArgumentException(tokens + " tokens do not fit the longest length bucket "
                + lengths[lengths.length - 1] + "; raise the last of inflow.batch.length-buckets "
                + Arrays.toString(lengths) + " to at least inflow.text.max-tokens");
    }

    public int length(int index) {
        return lengths[index];
    }

    public int count() {
        return lengths.length;
    }

    public int longest() {
        return lengths[lengths.length - 1];
    }
}
